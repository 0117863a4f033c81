using System.Globalization;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// The ledger integrity check, shared by every store so they all judge a journal the same way. Feed it
/// every entry ordered by (account, sequence) — each account's entries together, in sequence order;
/// the order of the accounts does not matter — then call <see cref="Finish"/>. It checks per account:
/// sequences contiguous from 1, the hash chain (first previous hash = <see cref="JournalHash.Genesis"/>,
/// then the previous entry's hash), each stored hash against a recomputation, each balance_after against
/// the running sum, one currency; and per transaction that the signed amounts sum to zero per currency.
/// After a problem it carries on from what is stored (the stored balance, the stored hash), so one bad
/// entry is reported once instead of breaking every check after it.
/// </summary>
public sealed class LedgerVerifier
{
    /// <summary>Problems listed in full; beyond this only their number is reported.</summary>
    public const int MaxProblemsListed = 1000;

    private readonly List<string> _problems = [];
    private readonly List<LedgerAccountSummary> _accounts = [];
    private readonly Dictionary<Guid, Dictionary<string, decimal>> _transactions = [];
    private long _problemCount;
    private long _entries;

    // The account being read.
    private string? _account;
    private string _currency = "";
    private long _lastSequence;
    private long _count;
    private decimal _sum;
    private decimal _runningBalance;
    private string _lastHash = JournalHash.Genesis;
    private readonly HashSet<string> _finishedAccounts = new(StringComparer.Ordinal);

    /// <summary>Checks a whole journal at once.</summary>
    public static LedgerVerification Verify(IEnumerable<JournalEntry> entriesByAccountAndSequence)
    {
        ArgumentNullException.ThrowIfNull(entriesByAccountAndSequence);
        var verifier = new LedgerVerifier();
        foreach (var entry in entriesByAccountAndSequence) verifier.Add(entry);
        return verifier.Finish();
    }

    public void Add(JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _entries++;
        if (!string.Equals(entry.AccountId, _account, StringComparison.Ordinal)) StartAccount(entry);

        var where = $"account '{entry.AccountId}' sequence {entry.Sequence} (tx {entry.TransactionId})";
        var expectedSequence = _lastSequence + 1;
        if (entry.Sequence != expectedSequence)
        {
            Problem(entry.Sequence > expectedSequence
                ? $"{where}: expected sequence {expectedSequence}; entries {Range(expectedSequence, entry.Sequence - 1)} are missing"
                : $"{where}: sequence out of order or repeated after {_lastSequence}");
        }

        if (!string.Equals(entry.PreviousHash, _lastHash, StringComparison.Ordinal))
        {
            Problem(_count == 0
                ? $"{where}: previous hash {entry.PreviousHash} of the account's first entry is not the genesis hash"
                : $"{where}: previous hash {entry.PreviousHash} does not match the hash {_lastHash} of the entry before it");
        }

        var recomputed = JournalHash.Compute(entry);
        if (!string.Equals(entry.Hash, recomputed, StringComparison.Ordinal))
            Problem($"{where}: stored hash {entry.Hash} does not match the entry's content (recomputed {recomputed})");

        if (!string.Equals(entry.Currency, _currency, StringComparison.Ordinal))
            Problem($"{where}: currency {entry.Currency} differs from the account's currency {_currency}");

        _sum += entry.Amount;
        _runningBalance += entry.Amount;
        if (entry.BalanceAfter != _runningBalance)
        {
            Problem($"{where}: balance after {Text(entry.BalanceAfter)} does not match the running balance {Text(_runningBalance)}");
            _runningBalance = entry.BalanceAfter; // go on from what is stored, so the next entries are judged on their own
        }

        var perCurrency = _transactions.TryGetValue(entry.TransactionId, out var sums) ? sums : _transactions[entry.TransactionId] = new(StringComparer.Ordinal);
        perCurrency[entry.Currency] = perCurrency.GetValueOrDefault(entry.Currency) + entry.Amount;

        _lastSequence = Math.Max(_lastSequence, entry.Sequence);
        _lastHash = entry.Hash;
        _count++;
    }

    public LedgerVerification Finish()
    {
        EndAccount();
        foreach (var (transactionId, sums) in _transactions)
        {
            foreach (var (currency, sum) in sums.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                if (sum != 0m)
                    Problem($"tx {transactionId}: entries in {currency} sum to {Text(sum)}, not 0 (debits and credits do not balance)");
            }
        }

        var problems = new List<string>(_problems);
        if (_problemCount > _problems.Count)
            problems.Add($"... and {_problemCount - _problems.Count} more problems");
        var accounts = _accounts.OrderBy(a => a.AccountId, StringComparer.Ordinal).ToList();
        return new LedgerVerification(_problemCount == 0, _entries, _transactions.Count, accounts, problems);
    }

    private void StartAccount(JournalEntry first)
    {
        EndAccount();
        if (!_finishedAccounts.Add(first.AccountId))
            Problem($"account '{first.AccountId}': entries are not grouped by account (the check was fed out of order)");
        _account = first.AccountId;
        _currency = first.Currency;
        _lastSequence = 0;
        _count = 0;
        _sum = 0m;
        _runningBalance = 0m;
        _lastHash = JournalHash.Genesis;
    }

    private void EndAccount()
    {
        if (_account is null) return;
        _accounts.Add(new LedgerAccountSummary(_account, _currency, _count, _sum, _lastHash));
        _account = null;
    }

    private void Problem(string text)
    {
        _problemCount++;
        if (_problems.Count < MaxProblemsListed) _problems.Add(text);
    }

    private static string Range(long from, long to) => from == to
        ? from.ToString(CultureInfo.InvariantCulture)
        : $"{from.ToString(CultureInfo.InvariantCulture)}..{to.ToString(CultureInfo.InvariantCulture)}";

    private static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
