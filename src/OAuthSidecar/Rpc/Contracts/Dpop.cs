using System.Text.Json;
using System.Text.Json.Serialization;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>
/// <c>createClient</c>'s <c>dpop</c>: <c>true</c> / <c>false</c>, or <c>{ "alg": "ES256" }</c> (which turns DPoP on
/// with that algorithm; <c>{}</c> turns it on with the default). Read by <see cref="DpopSettingConverter"/>; the schema
/// says <c>oneOf</c> a boolean and <c>DpopOptions</c>.
/// </summary>
[JsonConverter(typeof(DpopSettingConverter))]
public sealed class DpopSetting
{
    /// <summary>Gets a value indicating whether DPoP is on.</summary>
    public required bool Enabled { get; init; }

    /// <summary>Gets the JWS algorithm of the keys, or <see langword="null"/> to let the server's metadata choose.</summary>
    public DpopAlgorithmDto? Alg { get; init; }
}

/// <summary>
/// Reads and writes <see cref="DpopSetting"/>: a boolean, or an object with an optional <c>alg</c> (a
/// <see cref="DpopAlgorithmDto"/> or null, nothing else). An unknown algorithm is -32602 naming <c>dpop.alg</c> and
/// the allowed values.
/// </summary>
public sealed class DpopSettingConverter : JsonConverter<DpopSetting>
{
    private static readonly WireEnumConverter<DpopAlgorithmDto> Algorithms = new();

    /// <inheritdoc/>
    public override DpopSetting Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return new DpopSetting { Enabled = true };
            case JsonTokenType.False:
                return new DpopSetting { Enabled = false };
            case JsonTokenType.StartObject:
                DpopAlgorithmDto? alg = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    string? name = reader.TokenType == JsonTokenType.PropertyName ? reader.GetString() : null;
                    if (name != "alg" || !reader.Read() || reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                    {
                        throw new JsonException("dpop is true, false or { \"alg\": \"ES256\" } (alg a string, nothing else).");
                    }

                    try
                    {
                        alg = reader.TokenType == JsonTokenType.Null ? null : Algorithms.Read(ref reader, typeof(DpopAlgorithmDto), options);
                    }
                    catch (WireValueException ex)
                    {
                        throw new WireValueException(ex.Allowed, member: "alg");
                    }
                }

                return new DpopSetting { Enabled = true, Alg = alg };
            default:
                throw new JsonException("dpop is true, false or { \"alg\": \"ES256\" }.");
        }
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, DpopSetting value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Alg is not { } alg)
        {
            writer.WriteBooleanValue(value.Enabled);
            return;
        }

        writer.WriteStartObject();
        writer.WritePropertyName("alg");
        Algorithms.Write(writer, alg, options);
        writer.WriteEndObject();
    }
}

/// <summary>
/// Parameters of <c>createDpopProof</c> (addition 1.1): a DPoP proof (RFC 9449 §4, §7) for one of the caller's own
/// requests, signed with the key its tokens are bound to. The key itself never leaves the sidecar.
/// </summary>
public sealed class CreateDpopProofParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the request's HTTP method (<c>htm</c>), e.g. <c>GET</c>.</summary>
    public required string Htm { get; init; }

    /// <summary>Gets the request's URL; the proof's <c>htu</c> is it without query and fragment.</summary>
    public required string Htu { get; init; }

    /// <summary>
    /// Gets the account whose key signs the proof. By default: the key <see cref="AccessToken"/> is bound to, else
    /// the client's most recently used account's, else the client's own key (client credentials and other grants
    /// that belong to no account).
    /// </summary>
    public string? Account { get; init; }

    /// <summary>Gets the access token the request carries in <c>Authorization: DPoP …</c>; the proof then has <c>ath</c>.</summary>
    public string? AccessToken { get; init; }

    /// <summary>Gets the resource server's <c>DPoP-Nonce</c>, after it answered <c>use_dpop_nonce</c> (RFC 9449 §9).</summary>
    public string? Nonce { get; init; }
}

/// <summary>Result of <c>createDpopProof</c>.</summary>
public sealed class CreateDpopProofResult
{
    /// <summary>Gets the proof: the value of the request's <c>DPoP</c> header. Use it once (a fresh <c>jti</c> each time).</summary>
    public required string Proof { get; init; }

    /// <summary>Gets the thumbprint of the key that signed it (RFC 7638; the <c>cnf.jkt</c> of the tokens bound to it).</summary>
    public required string Jkt { get; init; }

    /// <summary>Gets until when to send it, in Unix seconds: its <c>iat</c> (the sidecar's clock) plus 60.</summary>
    public required long ExpiresAt { get; init; }
}
