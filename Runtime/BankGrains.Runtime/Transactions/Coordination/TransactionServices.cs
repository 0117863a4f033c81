using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BankGrains.Runtime.Transactions;

public static class TransactionServices
{
    /// <summary>The transaction coordinator and client, for silos and cluster clients (the store comes with the storage choice).</summary>
    public static IServiceCollection AddBankGrainsTransactions(this IServiceCollection services)
    {
        services.AddOptions<TransactionOptions>().BindConfiguration(TransactionOptions.Section);
        services.TryAddSingleton<TransactionAgent>();
        services.TryAddSingleton<ITransactionClient, TransactionClient>();
        return services;
    }
}
