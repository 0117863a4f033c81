using Microsoft.Extensions.Options;

namespace BankGrains.Api.Problems;

/// <summary>
/// The last <see cref="IProblemDetailsWriter"/>: the framework's own writer declines when the client's Accept
/// header rules out JSON (a browser asking for text/html), and would leave a plain-text error. This one
/// writes application/problem+json anyway, since that is the only form errors have.
/// </summary>
internal sealed class ProblemJsonWriter(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        ProblemFactory.Complete(http, context.ProblemDetails);
        return new ValueTask(http.Response.WriteAsJsonAsync(
            context.ProblemDetails, json.Value.SerializerOptions, ProblemFactory.ContentType, http.RequestAborted));
    }
}
