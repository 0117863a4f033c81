using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using BankGrains.Runtime.Transactions;
using BankGrains.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

public sealed class MemoryTransactionStoreTests : TransactionStoreConformanceTests
{
    private MemoryTransactionStore _store = null!;

    protected override Task<(object Store, IGrainStorage Grains)> CreateAsync(string serviceId)
    {
        var grains = new MemoryGrainStorage();
        _store = new MemoryTransactionStore(grains);
        return Task.FromResult<(object, IGrainStorage)>((_store, grains));
    }

    protected override Task TamperAsync(string account, long sequence, decimal? amount = null, string? hash = null)
    {
        _store.TamperWithEntry(account, sequence, e => e with { Amount = amount ?? e.Amount, Hash = hash ?? e.Hash });
        return Task.CompletedTask;
    }

    protected override Task DeleteEntryAsync(string account, long sequence)
    {
        _store.TamperWithEntry(account, sequence, _ => null);
        return Task.CompletedTask;
    }

    protected override Task<int> CountOutboxAsync(Guid transactionId) => Task.FromResult(_store.ReadOutbox(transactionId).Count);

    [Fact]
    public async Task A_throwing_before_commit_hook_applies_nothing()
    {
        var grain = NewGrain();
        var tx = Guid.NewGuid();
        _store.BeforeCommit = _ => throw new InvalidOperationException("database unreachable");

        await Assert.ThrowsAsync<InvalidOperationException>(() => Transactions.CommitAsync([Request(tx, [Write(grain, 0, 1)], header: true, events: 1)]));

        Assert.Null(await Transactions.ReadOutcomeAsync(tx));
        await AssertNoStateAsync(grain);
        Assert.Null(await Ledger.ReadTransactionAsync(tx));
        Assert.Equal(0, await CountOutboxAsync(tx));
    }

    [Fact]
    public async Task A_throwing_after_commit_hook_leaves_everything_applied()
    {
        var grain = NewGrain();
        var tx = Guid.NewGuid();
        IReadOnlyList<CommitRequest>? seen = null;
        _store.AfterCommit = group =>
        {
            seen = group;
            throw new InvalidOperationException("connection lost after COMMIT");
        };

        await Assert.ThrowsAsync<InvalidOperationException>(() => Transactions.CommitAsync([Request(tx, [Write(grain, 0, 1)], header: true, events: 1)]));

        Assert.Equal(tx, Assert.Single(seen!).TransactionId);
        Assert.Equal(TransactionOutcome.Committed, await Transactions.ResolveAsync(tx));
        await AssertStateAsync(grain, 1, 1);
        Assert.NotNull(await Ledger.ReadTransactionAsync(tx));
        Assert.Equal(1, await CountOutboxAsync(tx));
    }
}

public sealed class SqliteTransactionStoreTests : TransactionStoreConformanceTests
{
    private readonly TempDirectory _directory = new("bankgrains-tx-");
    private SqliteDatabase _database = null!;

    protected override Task<(object Store, IGrainStorage Grains)> CreateAsync(string serviceId)
    {
        _database = new SqliteDatabase(_directory.Combine("tx.db"));
        return Task.FromResult<(object, IGrainStorage)>((new SqliteTransactionStore(_database, serviceId), new SqliteGrainStorage(_database, serviceId)));
    }

    protected override Task CleanupAsync()
    {
        _database.Dispose();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    protected override async Task TamperAsync(string account, long sequence, decimal? amount = null, string? hash = null)
    {
        await WithoutImmutabilityAsync(
            "UPDATE journal_entries SET amount = coalesce($amount, amount), hash = coalesce($hash, hash) " +
            "WHERE service_id = $service AND account_id = $account AND sequence = $sequence",
            cmd =>
            {
                cmd.Parameters.AddWithValue("$amount", (object?)amount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? DBNull.Value);
                cmd.Parameters.AddWithValue("$hash", (object?)hash ?? DBNull.Value);
                cmd.Parameters.AddWithValue("$account", account);
                cmd.Parameters.AddWithValue("$sequence", sequence);
            });
    }

    protected override Task DeleteEntryAsync(string account, long sequence) =>
        WithoutImmutabilityAsync("DELETE FROM journal_entries WHERE service_id = $service AND account_id = $account AND sequence = $sequence",
            cmd =>
            {
                cmd.Parameters.AddWithValue("$account", account);
                cmd.Parameters.AddWithValue("$sequence", sequence);
            });

    protected override async Task<int> CountOutboxAsync(Guid transactionId)
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM outbox WHERE service_id = $service AND tx_id = $tx";
        cmd.Parameters.AddWithValue("$service", ServiceId);
        cmd.Parameters.AddWithValue("$tx", transactionId.ToString("D"));
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task The_journal_refuses_updates_and_deletes()
    {
        await CommitTransfersAsync(("A", "B", 1m, "EUR"));
        await using var connection = await _database.OpenConnectionAsync();
        foreach (var sql in new[] { "UPDATE journal_entries SET amount = '0'", "DELETE FROM journal_entries" })
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            var error = await Assert.ThrowsAsync<SqliteException>(() => cmd.ExecuteNonQueryAsync());
            Assert.Contains("immutable", error.Message);
        }
        Assert.True((await Ledger.VerifyAsync()).Ok);
        Assert.Equal(2, (await Ledger.VerifyAsync()).EntriesChecked);
    }

    // This test's database file is its own, so dropping the triggers affects nothing else.
    private async Task WithoutImmutabilityAsync(string sql, Action<SqliteCommand> parameters)
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "DROP TRIGGER IF EXISTS journal_entries_no_update; DROP TRIGGER IF EXISTS journal_entries_no_delete;";
        await cmd.ExecuteNonQueryAsync();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$service", ServiceId);
        parameters(cmd);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }
}
