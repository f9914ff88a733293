using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace OAuthSidecar.Core.Loopback;

/// <summary>Why a callback request was refused: the HTTP status code (RFC 9110 §15) and a sentence for the reply.</summary>
/// <param name="Status">The status code, e.g. 400, 413 or 415.</param>
/// <param name="Reason">A sentence for the page and the JSON reply.</param>
internal readonly record struct CallbackRefusal(int Status, string Reason);

/// <summary>
/// Reads the parameters of an authorization response (RFC 6749 §4.1.2) from a callback request: the query, a form
/// body (<c>response_mode=form_post</c>), or a JSON body (the fragment bridge page posts <c>{ fragment_params }</c>).
/// </summary>
internal static class CallbackRequestReader
{
    /// <summary>Reads the query, without <c>format</c> (a reply directive, not part of the response).</summary>
    /// <param name="request">The request.</param>
    /// <returns>The parameters (first value of each).</returns>
    public static Dictionary<string, string> ReadQuery(HttpRequest request)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, StringValues> pair in request.Query)
        {
            if (pair.Key != "format" && pair.Value.Count > 0 && pair.Value[0] is { } v)
            {
                parameters[pair.Key] = v;
            }
        }

        return parameters;
    }

    /// <summary>Adds the parameters of a POST body to <paramref name="parameters"/> (they win over the query).</summary>
    /// <param name="request">The request.</param>
    /// <param name="parameters">The parameters read so far.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    /// <returns><see langword="null"/> when the body was read (or empty); otherwise why it was refused.</returns>
    public static async Task<CallbackRefusal?> ReadBodyAsync(HttpRequest request, Dictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        try
        {
            if (request.HasFormContentType)
            {
                IFormCollection form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
                foreach (KeyValuePair<string, StringValues> pair in form)
                {
                    if (pair.Value.Count > 0 && pair.Value[0] is { } v)
                    {
                        parameters[pair.Key] = v;
                    }
                }

                return null;
            }

            if (request.ContentType is { } type && type.Contains("json", StringComparison.OrdinalIgnoreCase))
            {
                using JsonDocument document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken).ConfigureAwait(false);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return new CallbackRefusal(StatusCodes.Status400BadRequest, "The JSON body must be an object.");
                }

                foreach (JsonProperty property in document.RootElement.EnumerateObject())
                {
                    if (property.NameEquals("fragment_params") && property.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (JsonProperty fragment in property.Value.EnumerateObject())
                        {
                            parameters[fragment.Name] = AsText(fragment.Value);
                        }
                    }
                    else
                    {
                        parameters[property.Name] = AsText(property.Value);
                    }
                }

                return null;
            }

            return request.ContentLength is null or 0
                ? null
                : new CallbackRefusal(StatusCodes.Status415UnsupportedMediaType, "Send a form (application/x-www-form-urlencoded) or JSON.");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new CallbackRefusal(StatusCodes.Status413PayloadTooLarge, "The request body is larger than 64 KiB.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or BadHttpRequestException or DecoderFallbackException)
        {
            return new CallbackRefusal(StatusCodes.Status400BadRequest, "The request body could not be read: " + ex.Message);
        }
    }

    private static string AsText(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}
