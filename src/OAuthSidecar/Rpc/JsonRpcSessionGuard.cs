using System.Collections.Concurrent;
using System.Text.Json;
using StreamJsonRpc;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc.Protocol;

namespace OAuthSidecar.Rpc;

/// <summary>
/// The JSON-RPC 2.0 and LSP session rules that framing cannot see, applied to every message before StreamJsonRpc
/// dispatches it (StreamJsonRpc ends the connection on a response it did not ask for):
/// a response whose id matches no request of the sidecar (a stray, a duplicate answer to <c>window/showDocument</c>,
/// an id of the wrong type) is logged once per id and dropped; a request whose id is already in flight gets -32600;
/// a message without <c>"jsonrpc": "2.0"</c> gets -32600; after <c>shutdown</c>, requests get -32600 and only the
/// <c>exit</c> notification is accepted (LSP 3.17 §shutdown).
/// </summary>
internal sealed class JsonRpcSessionGuard
{
    /// <summary>How many stray response ids are remembered for "logged once"; beyond it a count is logged instead.</summary>
    public const int MaxRememberedStrays = 1024;

    private readonly ConcurrentDictionary<RequestId, byte> sentRequests = new();
    private readonly ConcurrentDictionary<RequestId, byte> requestsInFlight = new();
    private readonly ConcurrentDictionary<RequestId, byte> straysLogged = new();
    private readonly ConcurrentDictionary<JsonRpcError, byte> ownRefusals = new(ReferenceEqualityComparer.Instance);
    private readonly Action<string> warn;
    private int shutdownReceived;
    private int straysNotLogged;

    /// <summary>Initializes a new instance of the <see cref="JsonRpcSessionGuard"/> class.</summary>
    /// <param name="warn">Where a dropped message is reported (a log warning).</param>
    public JsonRpcSessionGuard(Action<string> warn)
    {
        this.warn = warn;
    }

    /// <summary>Gets the number of responses dropped because no request of the sidecar waited for them.</summary>
    public int StrayResponses { get; private set; }

    /// <summary>Returns why a message body is not JSON-RPC 2.0, or <see langword="null"/> when its <c>jsonrpc</c> member is <c>"2.0"</c> (or it is not a JSON object at all: framing classifies those).</summary>
    /// <param name="json">The message body.</param>
    /// <returns>A sentence, or <see langword="null"/>.</returns>
    public static string? VersionProblem(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isVersion = reader.ValueTextEquals("jsonrpc"u8);
                reader.Read();
                if (isVersion)
                {
                    return reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("2.0"u8)
                        ? null
                        : "The message's \"jsonrpc\" member must be \"2.0\" (JSON-RPC 2.0).";
                }

                reader.Skip();
            }

            return "The message has no \"jsonrpc\": \"2.0\" member (JSON-RPC 2.0 requires it).";
        }
        catch (JsonException)
        {
            return null; // not JSON: the framing's classifier answers -32700
        }
    }

    /// <summary>Checks a message read from the caller.</summary>
    /// <param name="message">The message.</param>
    /// <param name="createError">Makes an error message for a refusal.</param>
    /// <returns>What to do: deliver it, drop it, or answer with the refusal.</returns>
    public (bool Deliver, JsonRpcError? Refusal) OnReceived(JsonRpcMessage message, Func<int, string, RequestId, JsonRpcError> createError)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(createError);
        switch (message)
        {
            case JsonRpcRequest request when Volatile.Read(ref this.shutdownReceived) != 0:
                if (request.IsResponseExpected)
                {
                    return (false, this.Refuse(createError(ErrorCodes.InvalidRequest, $"The sidecar is shutting down (shutdown was received), so '{request.Method}' is not served; send the exit notification.", request.RequestId)));
                }

                return (request.Method == "exit", null);
            case JsonRpcRequest { IsResponseExpected: true } request:
                if (!this.requestsInFlight.TryAdd(request.RequestId, 0))
                {
                    return (false, this.Refuse(createError(ErrorCodes.InvalidRequest, $"A request with the id {request.RequestId} is still in progress; ids must be unique among requests in flight.", request.RequestId)));
                }

                if (request.Method == "shutdown")
                {
                    Volatile.Write(ref this.shutdownReceived, 1);
                }

                return (true, null);
            case JsonRpcResult or JsonRpcError:
                RequestId id = ((IJsonRpcMessageWithId)message).RequestId;
                if (this.sentRequests.TryRemove(id, out _))
                {
                    return (true, null);
                }

                this.StrayResponses++;
                if (this.straysLogged.Count < MaxRememberedStrays ? this.straysLogged.TryAdd(id, 0) : Interlocked.Increment(ref this.straysNotLogged) % 1000 == 1)
                {
                    this.warn($"Ignored a response with the id {id}: the sidecar sent no request with that id, or it was already answered. The sidecar keeps serving.");
                }

                return (false, null);
            default:
                return (true, null);
        }
    }

    /// <summary>Records a message written to the caller (requests the sidecar sends; responses that end requests in flight).</summary>
    /// <param name="message">The message.</param>
    /// <returns><see langword="true"/> when the message is one of this guard's own refusals (it ends no request in flight).</returns>
    public bool OnSent(JsonRpcMessage message)
    {
        switch (message)
        {
            case JsonRpcRequest { IsResponseExpected: true } request:
                this.sentRequests.TryAdd(request.RequestId, 0);
                return false;
            case JsonRpcError error when this.ownRefusals.TryRemove(error, out _):
                return true; // a refusal of a duplicate id must not end the original request's entry
            case JsonRpcResult or JsonRpcError:
                this.requestsInFlight.TryRemove(((IJsonRpcMessageWithId)message).RequestId, out _);
                return false;
            default:
                return false;
        }
    }

    private JsonRpcError Refuse(JsonRpcError error)
    {
        this.ownRefusals.TryAdd(error, 0);
        return error;
    }
}
