using System.Text.Json.Nodes;
using BankGrains.Grains.Interfaces;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace BankGrains.Api.OpenApi;

/// <summary>The OpenAPI document (/openapi/v1.json): title, and the wire shapes of Money and Currency.</summary>
public static class OpenApiSetup
{
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddBankGrainsOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "BankGrains API",
                    Version = "v1",
                    Description =
                        "Customers and accounts of the BankGrains core-banking cluster. Amounts are JSON strings with an ISO 4217 currency, " +
                        "{\"amount\":\"100.00\",\"currency\":\"USD\"}. Every error is RFC 9457 application/problem+json with the extensions " +
                        "'code' and 'traceId'; its 'type' is described at GET /problems/{code}.",
                };
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer(DescribeMoneyTypes);
        });

    // Money and Currency carry their own JSON converters, so the generated schema cannot see their shape.
    private static Task DescribeMoneyTypes(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (type == typeof(Money))
        {
            schema.Type = JsonSchemaType.Object;
            schema.Description = "An amount of money. The amount is a decimal string with exactly the currency's minor units.";
            schema.Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["amount"] = AmountSchema(),
                ["currency"] = CurrencySchema(new OpenApiSchema()),
            };
            schema.Required = new HashSet<string> { "amount", "currency" };
            schema.AdditionalPropertiesAllowed = false;
            schema.Examples = [new JsonObject { ["amount"] = "100.00", ["currency"] = "USD" }];
        }
        else if (type == typeof(Currency))
        {
            CurrencySchema(schema);
        }
        else if (type.IsEnum)
        {
            schema.Type = JsonSchemaType.String;
        }
        else if (type == typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))
        {
            schema.Description = "An RFC 9457 problem. 'type' is described at GET /problems/{code}.";
            schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
            schema.Properties["code"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "Stable camelCase error code, for example insufficientFunds.",
                Examples = [JsonValue.Create("insufficientFunds")],
            };
            schema.Properties["traceId"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "W3C trace id of the request; quote it when reporting a problem.",
            };
        }
        return Task.CompletedTask;
    }

    private static OpenApiSchema AmountSchema() => new()
    {
        Type = JsonSchemaType.String,
        Pattern = @"^-?[0-9]+(\.[0-9]+)?$",
        Description = "A decimal string, never a JSON number.",
        Examples = [JsonValue.Create("100.00")],
    };

    private static OpenApiSchema CurrencySchema(OpenApiSchema schema)
    {
        schema.Type = JsonSchemaType.String;
        schema.Properties?.Clear();
        schema.Pattern = "^[A-Z]{3}$";
        schema.Description = "An ISO 4217 currency code, upper case.";
        schema.Examples = [JsonValue.Create("USD")];
        return schema;
    }
}
