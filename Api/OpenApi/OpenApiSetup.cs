using System.Text.Json.Nodes;
using BankGrains.Api.Idempotency;
using BankGrains.Grains.Interfaces;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace BankGrains.Api.OpenApi;

/// <summary>The OpenAPI document (/openapi/v1.json): title, the wire shapes of Money and Currency, and the Idempotency-Key header.</summary>
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
                        "'code' and 'traceId'; its 'type' is described at GET /problems/{code}. Requests that move money (transfers, deposits, " +
                        "withdrawals) need an Idempotency-Key header; retrying with the same key and body returns the original answer.",
                };
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer(DescribeMoneyTypes);
            options.AddOperationTransformer(DescribeIdempotencyKey);
        });

    // The filter reads the header itself, so the endpoint's parameters do not show it.
    private static Task DescribeIdempotencyKey(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotencyKeyMetadata>().Any()) return Task.CompletedTask;
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = IdempotencyKeyHeader.Name,
            In = ParameterLocation.Header,
            Required = true,
            Description = "A unique value chosen by the client (a UUID is a good choice), 1–255 printable ASCII characters, sent again unchanged " +
                          "with every retry of this request. A retry with the same key and body returns the original status and body, with " +
                          "Idempotent-Replayed: true, and never moves money twice; the same key with another body or URL is 422; while the first " +
                          "request is still running a retry is 409 with Retry-After.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyKeyHeader.MaxLength },
            Example = JsonValue.Create("5f0c2a4e-8d1b-4c7e-9a3f-2b6d8e1f4a90"),
        });
        return Task.CompletedTask;
    }

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
