using System.Collections.Frozen;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// The active ISO 4217 currencies (list one) and their minor units, as of late 2026.
/// </summary>
/// <remarks>
/// Included: every circulating currency, plus the fund codes that have minor units
/// (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW).
/// Left out: codes whose minor units are "N.A." — precious metals (XAU, XAG, XPT, XPD), XDR, XSU, XUA,
/// the bond-market units (XBA, XBB, XBC, XBD), XAD, and the testing/no-currency codes XTS and XXX —
/// and withdrawn codes such as ANG (replaced by XCG), BGN (Bulgaria adopted the euro on 2026-01-01),
/// CUC, HRK, SLL (replaced by SLE), ZWL (replaced by ZWG), MRO, STD, VEF and BYR.
/// Lookups are ordinal, so codes are case-sensitive.
/// </remarks>
public static class CurrencyTable
{
    // Grouped by minor units; each string is a run of three-letter codes.
    private const string ZeroDecimals =
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";

    private const string ThreeDecimals =
        "BHD IQD JOD KWD LYD OMR TND";

    private const string FourDecimals =
        "CLF UYW";

    private const string TwoDecimals =
        "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP " +
        "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB " +
        "EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES " +
        "KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR " +
        "MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD " +
        "RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP " +
        "TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG";

    /// <summary>Minor units keyed by ISO 4217 code (ordinal, case-sensitive).</summary>
    public static IReadOnlyDictionary<string, int> MinorUnitsByCode { get; } = Build();

    private static FrozenDictionary<string, int> Build()
    {
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        Add(table, ZeroDecimals, 0);
        Add(table, TwoDecimals, 2);
        Add(table, ThreeDecimals, 3);
        Add(table, FourDecimals, 4);
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static void Add(Dictionary<string, int> table, string codes, int minorUnits)
    {
        foreach (var code in codes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (code.Length != 3 || !code.All(static c => c is >= 'A' and <= 'Z'))
            {
                throw new InvalidOperationException($"Currency table entry '{code}' is not three upper-case letters.");
            }

            // Add (not the indexer) so a code listed twice fails loudly at start-up.
            table.Add(code, minorUnits);
        }
    }
}
