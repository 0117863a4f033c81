using System.Reflection;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Grains.Tests.Accounts;

/// <summary>
/// Account and cash states copy themselves with MemberwiseClone, which is a full copy only while
/// every member is a value or a string. A mutable member added later would be shared between a
/// transaction's copy and the committed state: these tests fail first.
/// </summary>
public sealed class StateCopyTests
{
    public static TheoryData<Type> SelfCopyingStates => new() { typeof(AccountState), typeof(CashAccountState) };

    [Theory]
    [MemberData(nameof(SelfCopyingStates))]
    public void Every_member_is_a_value_or_a_string(Type state)
    {
        var shared = state.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(f => !f.FieldType.IsValueType && f.FieldType != typeof(string))
            .Select(f => f.Name);

        Assert.Empty(shared);
    }

    [Fact]
    public void A_copied_account_state_is_equal_but_independent()
    {
        var original = new AccountState
        {
            IsOpen = true, CustomerId = Guid.NewGuid(), Product = AccountProduct.Savings, Currency = Currency.EUR,
            Balance = new Money(12.50m, Currency.EUR), OverdraftLimit = new Money(100m, Currency.EUR), Status = AccountStatus.Frozen,
            FrozenReason = "court order", OpenedAt = DateTimeOffset.UnixEpoch, LedgerSequence = 4, LastEntryHash = "abc",
        };

        var copy = original.DeepCopy();
        copy.Balance = new Money(0m, Currency.EUR);
        copy.LedgerSequence = 5;

        Assert.NotSame(original, copy);
        Assert.Equal(new Money(12.50m, Currency.EUR), original.Balance);
        Assert.Equal(4, original.LedgerSequence);
        Assert.Equal((original.CustomerId, original.FrozenReason, original.Status), (copy.CustomerId, copy.FrozenReason, copy.Status));
    }
}
