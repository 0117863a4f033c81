using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>How a transaction's private copy of a state is made.</summary>
public sealed class WorkingCopyTests
{
    public sealed class PlainState
    {
        public int Balance { get; set; }
        public List<int> History { get; set; } = [];
    }

    public sealed class SelfCopyingState : IDeepCopyable<SelfCopyingState>
    {
        public int Balance { get; set; }
        public int CopiesMade { get; set; }

        public SelfCopyingState DeepCopy() => new() { Balance = Balance, CopiesMade = CopiesMade + 1 };
    }

    // Copy uses neither the storage nor the resource.
    private static TransactionalState<T> Binding<T>() where T : class, new() =>
        new("state", new GrainId("test", "copy"), null!, null!);

    [Fact]
    public void A_state_that_copies_itself_is_copied_with_its_own_DeepCopy()
    {
        var committed = new SelfCopyingState { Balance = 7 };

        var copy = (SelfCopyingState)Binding<SelfCopyingState>().Copy(committed, version: 3);

        Assert.NotSame(committed, copy);
        Assert.Equal((7, 1), (copy.Balance, copy.CopiesMade));
        copy.Balance = 100;
        Assert.Equal(7, committed.Balance);
    }

    [Fact]
    public void Any_other_state_is_copied_deeply_through_JSON()
    {
        var committed = new PlainState { Balance = 5, History = [1, 2] };

        var copy = (PlainState)Binding<PlainState>().Copy(committed, version: 2);
        copy.History.Add(3);
        copy.Balance = 9;

        Assert.Equal(5, committed.Balance);
        Assert.Equal([1, 2], committed.History);
    }

    [Fact]
    public void Without_a_stored_record_the_copy_is_a_fresh_state()
    {
        var copy = (SelfCopyingState)Binding<SelfCopyingState>().Copy(new SelfCopyingState { Balance = 4 }, version: 0);

        Assert.Equal((0, 0), (copy.Balance, copy.CopiesMade));
    }
}
