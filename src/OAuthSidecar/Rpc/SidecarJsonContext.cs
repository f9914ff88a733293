using System.Text.Json;
using System.Text.Json.Serialization;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Source-generated System.Text.Json metadata for every type on the wire: no reflection, NativeAOT-safe.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(InitializeParams))]
[JsonSerializable(typeof(InitializeResult))]
[JsonSerializable(typeof(CreateClientParams))]
[JsonSerializable(typeof(CreateClientResult))]
[JsonSerializable(typeof(DisposeClientParams))]
[JsonSerializable(typeof(InitiateAuthCodeFlowParams))]
[JsonSerializable(typeof(InitiateAuthCodeFlowResult))]
[JsonSerializable(typeof(WaitForCallbackParams))]
[JsonSerializable(typeof(CallbackResultDto))]
[JsonSerializable(typeof(ObtainTokenByAuthCodeFlowParams))]
[JsonSerializable(typeof(CancelFlowParams))]
[JsonSerializable(typeof(InitiateDeviceFlowParams))]
[JsonSerializable(typeof(InitiateDeviceFlowResult))]
[JsonSerializable(typeof(ObtainTokenByDeviceFlowParams))]
[JsonSerializable(typeof(RefreshParams))]
[JsonSerializable(typeof(TokenResult))]
[JsonSerializable(typeof(CancelRequestParams))]
[JsonSerializable(typeof(GetCredentialsParams))]
[JsonSerializable(typeof(ListAccountsParams))]
[JsonSerializable(typeof(IReadOnlyList<AccountInfo>))]
[JsonSerializable(typeof(SignOutParams))]
[JsonSerializable(typeof(DeviceCodeNotification))]
[JsonSerializable(typeof(StorageUnavailableData))]
[JsonSerializable(typeof(StartCallbackServerParams))]
[JsonSerializable(typeof(StartCallbackServerResult))]
[JsonSerializable(typeof(StopCallbackServerParams))]
[JsonSerializable(typeof(BuildAuthRequestUriParams))]
[JsonSerializable(typeof(BuildAuthRequestUriResult))]
[JsonSerializable(typeof(ParseAuthResponseParams))]
[JsonSerializable(typeof(ParseAuthResponseResult))]
[JsonSerializable(typeof(ObtainTokenByAuthorizationCodeParams))]
[JsonSerializable(typeof(ObtainTokenForClientParams))]
[JsonSerializable(typeof(ObtainTokenByUsernamePasswordParams))]
[JsonSerializable(typeof(ObtainTokenByAssertionParams))]
[JsonSerializable(typeof(CreateDpopProofParams))]
[JsonSerializable(typeof(CreateDpopProofResult))]
[JsonSerializable(typeof(DpopSetting))]
[JsonSerializable(typeof(DpopAlgorithmDto))]
[JsonSerializable(typeof(CallbackReceivedNotification))]
[JsonSerializable(typeof(DeviceFlowPendingNotification))]
[JsonSerializable(typeof(TokensObtainedNotification))]
[JsonSerializable(typeof(RefreshTokenUpdatedNotification))]
[JsonSerializable(typeof(RefreshTokenRemovedNotification))]
[JsonSerializable(typeof(LogMessageParams))]
[JsonSerializable(typeof(ShowDocumentParams))]
[JsonSerializable(typeof(ShowDocumentResult))]
[JsonSerializable(typeof(ParseChallengeParams))]
[JsonSerializable(typeof(ParseChallengeResult))]
[JsonSerializable(typeof(AuthorizationUrlNotification))]
[JsonSerializable(typeof(PromptRedirectParams))]
[JsonSerializable(typeof(PromptRedirectResult))]
[JsonSerializable(typeof(InvalidParamsData))]
[JsonSerializable(typeof(TimeoutData))]
[JsonSerializable(typeof(StateMismatchData))]
[JsonSerializable(typeof(OAuthErrorData))]
[JsonSerializable(typeof(UnknownHandleData))]
[JsonSerializable(typeof(ListenFailedData))]
[JsonSerializable(typeof(ServerUnreachableData))]
[JsonSerializable(typeof(InvalidIdTokenData))]
[JsonSerializable(typeof(CommonErrorData))]
[JsonSerializable(typeof(RequestId))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(object))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
public sealed partial class SidecarJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Creates the options used for user data on the wire: this context, camelCase names, nulls omitted, unknown
    /// members refused (so a misspelt parameter is reported, not ignored).
    /// </summary>
    /// <returns>New options.</returns>
    public static JsonSerializerOptions CreateOptions() => new(WireOptions);

    /// <summary>Gets the shared, read-only options for user data (see <see cref="CreateOptions"/>).</summary>
    public static JsonSerializerOptions WireOptions => field ??= CreateReadOnlyOptions();

    private static JsonSerializerOptions CreateReadOnlyOptions()
    {
        var options = new JsonSerializerOptions
        {
            TypeInfoResolver = Default,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            MaxDepth = 64,
        };
        options.MakeReadOnly();
        return options;
    }
}
