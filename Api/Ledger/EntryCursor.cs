using System.Buffers.Text;
using System.Globalization;
using System.Text;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Ledger;

/// <summary>
/// The opaque ?cursor= of an account's entries: base64url of the last sequence the previous page showed.
/// Opaque so that clients pass it back instead of computing it, leaving the format free to change.
/// </summary>
internal static class EntryCursor
{
    private const string Prefix = "after:";

    public static string Encode(long lastSequence) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(Prefix + lastSequence.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The sequence to read after: 0 without a cursor; a <see cref="BankErrorCode.Validation"/> refusal for one this API did not issue.</summary>
    public static long Decode(string? cursor, string field)
    {
        if (string.IsNullOrEmpty(cursor)) return 0;
        var bytes = new byte[Base64Url.GetMaxDecodedLength(cursor.Length)];
        if (cursor.Length <= 64
            && Base64Url.IsValid(cursor)
            && Base64Url.DecodeFromChars(cursor, bytes) is var length
            && Encoding.ASCII.GetString(bytes, 0, length) is var text
            && text.StartsWith(Prefix, StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            && sequence > 0)
            return sequence;
        throw new BankException(BankErrorCode.Validation, $"{field} is not a cursor this API issued: pass back a nextCursor value unchanged.");
    }
}
