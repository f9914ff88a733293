using System.Text.Json;
using System.Text.Json.Serialization;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>
/// <c>resource</c> on the wire (RFC 8707 §2): one resource indicator as a string, or several as an array of strings.
/// Each is an absolute URI without a fragment (<c>https://api.example.com</c>, <c>urn:example:api</c>).
/// </summary>
[JsonConverter(typeof(ResourceIndicatorsConverter))]
public sealed class ResourceIndicators
{
    /// <summary>Initializes a new instance of the <see cref="ResourceIndicators"/> class.</summary>
    /// <param name="values">The resource indicators.</param>
    public ResourceIndicators(IReadOnlyList<string> values)
    {
        this.Values = values;
    }

    /// <summary>Gets the resource indicators, in the order given.</summary>
    public IReadOnlyList<string> Values { get; }
}

/// <summary>Reads <c>"urn:a"</c> or <c>["urn:a", "urn:b"]</c>; writes one value as a string, several as an array.</summary>
public sealed class ResourceIndicatorsConverter : JsonConverter<ResourceIndicators>
{
    /// <inheritdoc/>
    public override ResourceIndicators Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new ResourceIndicators([reader.GetString()!]);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("resource must be a string or an array of strings.");
        }

        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("resource must be a string or an array of strings."));
        }

        return new ResourceIndicators(values);
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, ResourceIndicators value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Values.Count == 1)
        {
            writer.WriteStringValue(value.Values[0]);
            return;
        }

        writer.WriteStartArray();
        foreach (string v in value.Values)
        {
            writer.WriteStringValue(v);
        }

        writer.WriteEndArray();
    }
}
