using BankGrains.Runtime.Hosting;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class DataSourceSettingsTests
{
    private static NpgsqlConnectionStringBuilder SettingsOf(string connectionString)
    {
        using var dataSource = StorageConfiguration.CreateDataSource(connectionString);
        return new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
    }

    [Fact]
    public void The_runtime_prepares_its_statements_and_does_not_reset_pooled_connections()
    {
        var settings = SettingsOf("Host=127.0.0.1;Username=bank");

        Assert.Equal((64, 2, true), (settings.MaxAutoPrepare, settings.AutoPrepareMinUsages, settings.NoResetOnClose));
    }

    [Fact]
    public void A_connection_string_that_sets_them_keeps_its_own()
    {
        var settings = SettingsOf("Host=127.0.0.1;Username=bank;Max Auto Prepare=0;No Reset On Close=false");

        Assert.Equal((0, false), (settings.MaxAutoPrepare, settings.NoResetOnClose));
    }
}
