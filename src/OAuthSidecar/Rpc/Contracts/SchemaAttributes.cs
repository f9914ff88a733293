namespace OAuthSidecar.Rpc.Contracts;

/// <summary>
/// The name of a contract type in the schema (its <c>title</c> and key in <c>components.schemas</c>) and so in the
/// generated clients, where it is not the C# name without its <c>Dto</c> suffix.
/// </summary>
/// <param name="name">The protocol name, e.g. <c>CallbackPages</c>.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Enum)]
public sealed class ProtocolTypeAttribute(string name) : Attribute
{
    /// <summary>Gets the protocol name.</summary>
    public string Name { get; } = name;
}

/// <summary>What a <see cref="System.Text.Json.JsonElement"/> member holds, for the schema (a JsonElement alone says "any JSON").</summary>
public enum JsonShape
{
    /// <summary>A JSON object with any members (the <c>JsonObject</c> schema).</summary>
    AnyObject,

    /// <summary>A JSON-RPC request id: an integer or a string (the <c>RequestId</c> schema).</summary>
    RequestId,
}

/// <summary>Declares what a <see cref="System.Text.Json.JsonElement"/> member holds (see <see cref="JsonShape"/>).</summary>
/// <param name="shape">The shape.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class JsonShapeAttribute(JsonShape shape) : Attribute
{
    /// <summary>Gets the shape.</summary>
    public JsonShape Shape { get; } = shape;
}

/// <summary>What the schema says of an error code (<c>components.errors</c>): its meaning and the shape of its <c>data</c>.</summary>
/// <param name="message">One sentence: when the error is answered.</param>
/// <param name="data">The contract type of <c>data</c>, or <see langword="null"/> when there is none.</param>
[AttributeUsage(AttributeTargets.Field)]
public sealed class ProtocolErrorAttribute(string message, Type? data = null) : Attribute
{
    /// <summary>Gets the sentence.</summary>
    public string Message { get; } = message;

    /// <summary>Gets the contract type of <c>data</c>, if any.</summary>
    public Type? Data { get; } = data;
}
