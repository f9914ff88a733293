using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>An error answered by the sidecar.</summary>
public sealed record RpcError(int Code, string Message, JsonNode? Data)
{
    public string? DataString(string name) => this.Data?[name]?.GetValue<string>();
}

/// <summary>Thrown when a call expected to succeed got an error.</summary>
public sealed class RpcCallException(RpcError error) : Exception($"{error.Code}: {error.Message} {error.Data?.ToJsonString()}")
{
    public RpcError Error { get; } = error;
}

/// <summary>
/// The real <c>oauth-sidecar</c> process with a raw JSON-RPC client over its stdin/stdout (LSP framing by default,
/// or one message per line). Records every notification and everything written to stderr.
/// </summary>
public sealed class SidecarProcess : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly Process process;
    private readonly Stream stdin;
    private readonly Stream stdout;
    private readonly bool newlineFraming;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> pending = new();
    private readonly List<JsonObject> notifications = [];
    private readonly StringBuilder stderr = new();
    private readonly SemaphoreSlim writeGate = new(1);
    private readonly Task readLoop;
    private readonly List<JsonObject> unmatched = [];
    private readonly HashSet<string> secrets = new(StringComparer.Ordinal);
    private readonly HashSet<string> codeChallenges = new(StringComparer.Ordinal);
    private readonly Lock changedGate = new();
    private readonly List<string> output = [];
    private readonly HashSet<string> privateKeys = new(StringComparer.Ordinal);
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool stderrEnded;
    private string? dataDirectory;
    private long nextId;

    /// <summary>Property names whose values are secrets, in what the test sends and what the sidecar answers.</summary>
    private static readonly HashSet<string> SecretNames = new(StringComparer.Ordinal)
    {
        "clientSecret", "password", "assertion", "clientAssertion", "pem", "refreshToken", "accessToken", "idToken", "code", "codeVerifier",
        "access_token", "refresh_token", "id_token", "client_secret", "device_code", "proof",
    };

    /// <summary>Gets a value indicating whether the secret check runs at dispose (on by default in every test).</summary>
    public bool CheckSecretsOnDispose { get; set; } = true;

    private SidecarProcess(Process process, bool newlineFraming, bool readStderr = true)
    {
        this.process = process;
        this.newlineFraming = newlineFraming;
        this.stdin = process.StandardInput.BaseStream;
        this.stdout = process.StandardOutput.BaseStream;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                this.stderrEnded = true; // end of stderr: nothing more will be written
            }
            else
            {
                lock (this.stderr)
                {
                    this.stderr.AppendLine(e.Data);
                }
            }

            this.SignalChange();
        };
        if (readStderr)
        {
            process.BeginErrorReadLine();
        }

        this.readLoop = Task.Run(this.ReadLoopAsync);
    }

    /// <summary>Starts reading stderr of a process started with <c>readStderr: false</c> (a parent that did not drain it).</summary>
    public void ResumeStderr() => this.process.BeginErrorReadLine();

    /// <summary>Answers requests the sidecar sends to the caller (e.g. <c>window/showDocument</c>).</summary>
    public Func<string, JsonNode?, JsonNode?>? RequestHandler { get; set; }

    /// <summary>
    /// Answers requests the sidecar sends to the caller asynchronously (e.g. <c>auth/promptRedirect</c>, answered after
    /// the test provider played the user); wins over <see cref="RequestHandler"/>. A task that never ends leaves the
    /// request unanswered; one that throws answers an error. What the answer carries counts as secret (a pasted code).
    /// </summary>
    public Func<string, JsonNode?, Task<JsonNode?>>? AsyncRequestHandler { get; set; }

    /// <summary>Adds a secret the leak check looks for (one the test handed the sidecar itself).</summary>
    public void RememberSecret(string secret)
    {
        lock (this.secrets)
        {
            this.secrets.Add(secret);
        }
    }

    public int ProcessId => this.process.Id;

    public bool HasExited => this.process.HasExited;

    public string Stderr
    {
        get
        {
            lock (this.stderr)
            {
                return this.stderr.ToString();
            }
        }
    }

    public IReadOnlyList<JsonObject> Notifications
    {
        get
        {
            lock (this.notifications)
            {
                return [.. this.notifications];
            }
        }
    }

    /// <summary>Responses that matched no request (e.g. errors with a null id for unparseable frames).</summary>
    public IReadOnlyList<JsonObject> Unmatched
    {
        get
        {
            lock (this.unmatched)
            {
                return [.. this.unmatched];
            }
        }
    }

    public static Task<SidecarProcess> StartAsync(params string[] arguments) => StartAsync(arguments, null);

    public static Task<SidecarProcess> StartAsync(string[] arguments, IDictionary<string, string?>? environment) => StartAsync(arguments, environment, readStderr: true);

    /// <summary>Starts the sidecar; with <paramref name="readStderr"/> false nobody reads its stderr until <see cref="ResumeStderr"/>.</summary>
    public static Task<SidecarProcess> StartAsync(string[] arguments, IDictionary<string, string?>? environment, bool readStderr)
    {
        (string fileName, string[] baseArguments) = RepoPaths.SidecarCommand();
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (string argument in baseArguments.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        // No display: a test must never open a real browser.
        info.Environment.Remove("DISPLAY");
        info.Environment.Remove("WAYLAND_DISPLAY");
        info.Environment.Remove("BROWSER");
        if (environment is not null)
        {
            foreach ((string key, string? value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        Process process = Process.Start(info) ?? throw new InvalidOperationException("The sidecar could not be started.");
        var sidecar = new SidecarProcess(process, arguments.Contains("newline"), readStderr) { dataDirectory = environment is not null && environment.TryGetValue("OAUTH_SIDECAR_DATA_DIR", out string? data) ? data : null };
        return Task.FromResult(sidecar);
    }

    /// <summary>Sends a request and returns the whole response object (with <c>result</c> or <c>error</c>).</summary>
    public async Task<JsonObject> SendAsync(string method, object? parameters = null, TimeSpan? timeout = null, string? id = null)
    {
        id ??= Interlocked.Increment(ref this.nextId).ToString(CultureInfo.InvariantCulture);
        var tcs = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        this.pending[id] = tcs;
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = long.Parse(id, CultureInfo.InvariantCulture), ["method"] = method };
        if (parameters is not null)
        {
            message["params"] = ToNode(parameters);
            this.RememberSecrets(message["params"]);
        }

        await this.WriteMessageAsync(message.ToJsonString());
        try
        {
            return await tcs.Task.WaitAsync(timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No answer to {method} within {(timeout ?? DefaultTimeout).TotalSeconds} s. stderr:\n{this.Stderr}");
        }
        finally
        {
            this.pending.TryRemove(id, out _);
        }
    }

    /// <summary>Sends a request and returns its result; fails the test on an error.</summary>
    public async Task<JsonNode?> CallAsync(string method, object? parameters = null, TimeSpan? timeout = null)
    {
        JsonObject response = await this.SendAsync(method, parameters, timeout);
        if (response["error"] is JsonObject error)
        {
            throw new RpcCallException(ToError(error));
        }

        return response["result"];
    }

    /// <summary>Sends a request that must fail and returns the error.</summary>
    public async Task<RpcError> CallExpectingErrorAsync(string method, object? parameters = null, TimeSpan? timeout = null)
    {
        JsonObject response = await this.SendAsync(method, parameters, timeout);
        Assert.True(response["error"] is JsonObject, $"{method} was expected to fail but returned {response.ToJsonString()}");
        return ToError(response["error"]!.AsObject());
    }

    /// <summary>Starts a request and returns its id and the task of its response.</summary>
    public (string Id, Task<JsonObject> Response) Start(string method, object? parameters = null, TimeSpan? timeout = null)
    {
        string id = Interlocked.Increment(ref this.nextId).ToString(CultureInfo.InvariantCulture);
        return (id, this.SendAsync(method, parameters, timeout, id));
    }

    public Task NotifyAsync(string method, object? parameters = null)
    {
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method };
        if (parameters is not null)
        {
            message["params"] = ToNode(parameters);
        }

        return this.WriteMessageAsync(message.ToJsonString());
    }

    /// <summary>Writes bytes as they are (malformed frames).</summary>
    public async Task WriteRawAsync(byte[] bytes)
    {
        await this.writeGate.WaitAsync();
        try
        {
            await this.stdin.WriteAsync(bytes);
            await this.stdin.FlushAsync();
        }
        finally
        {
            this.writeGate.Release();
        }
    }

    /// <summary>Waits for a notification (already received or still to come).</summary>
    public async Task<JsonObject> WaitForNotificationAsync(string method, Func<JsonObject, bool>? predicate = null, TimeSpan? timeout = null)
    {
        JsonObject found = await this.WaitForAsync(
            () => this.Notifications.FirstOrDefault(n => n["method"]?.GetValue<string>() == method && (predicate?.Invoke(n["params"]?.AsObject() ?? []) ?? true)),
            timeout ?? DefaultTimeout,
            () => $"No {method} notification arrived. Got: {string.Join(", ", this.Notifications.Select(n => n["method"]))}");
        return found["params"]?.AsObject() ?? [];
    }

    /// <summary>Waits for the <paramref name="count"/>-th response that matched no request (answers to raw frames).</summary>
    public Task<JsonObject> WaitForUnmatchedAsync(int count, TimeSpan? timeout = null) =>
        this.WaitForAsync(
            () => this.Unmatched is { } all && all.Count >= count ? all[count - 1] : null,
            timeout ?? TimeSpan.FromSeconds(20),
            () => $"No answer to the raw frame arrived ({this.Unmatched.Count} unmatched responses, {count} expected).");

    /// <summary>Waits until <paramref name="text"/> appears on stderr (already written or still to come).</summary>
    public Task WaitForStderrAsync(string text, TimeSpan? timeout = null) =>
        this.WaitForAsync(
            () => this.Stderr.Contains(text, StringComparison.Ordinal) ? text : null,
            timeout ?? DefaultTimeout,
            () => $"'{text}' did not appear on stderr:\n{this.Stderr}");

    /// <summary>
    /// A fence: returns when every request sent before it has been dispatched, i.e. its method has run up to its first
    /// wait. StreamJsonRpc invokes methods in the order the requests arrive (its default non-concurrent
    /// synchronization context), so the answer to a request sent last comes after that. Replaces "wait a little
    /// until the earlier request is surely waiting".
    /// </summary>
    public async Task BarrierAsync()
    {
        JsonObject answer = await this.SendAsync("parseAuthResponse", new { query = "state=barrier" });
        Assert.True(answer["result"] is not null, "the barrier request failed: " + answer.ToJsonString());
    }

    /// <summary>Ends the process the way a parent does (stdin closed) and waits for it and its stderr to end.</summary>
    /// <returns>The exit code.</returns>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        this.stdin.Close();
        return await this.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(10));
    }

    /// <summary>Closes stdin (the parent goes away).</summary>
    public void CloseStdin() => this.stdin.Close();

    /// <summary>Waits for the process to end; with stderr redirected, also for stderr's end (all of it is in <see cref="Stderr"/>).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await this.process.WaitForExitAsync(cts.Token);
        return this.process.ExitCode;
    }

    /// <summary>
    /// Asserts that no secret this process handled — client secrets, passwords and assertions sent to it; tokens and
    /// codes it answered; the PKCE code verifier behind any code challenge it produced — appears in anything it wrote
    /// besides results and the two notifications made to carry secrets (<c>callbackReceived</c>, <c>refreshTokenUpdated</c>).
    /// Runs when every end-to-end test disposes its sidecar: together, the whole suite.
    /// </summary>
    public void AssertNoSecretLeaked()
    {
        string written = this.Stderr + "\n" + string.Join("\n", this.Notifications
            .Where(n => n["method"]?.GetValue<string>() is not ("callbackReceived" or "refreshTokenUpdated"))
            .Select(n => n.ToJsonString()));
        string[] known;
        lock (this.secrets)
        {
            known = [.. this.secrets];
        }

        // One pass over the text for all of them (a soak hands out tens of thousands of codes).
        if (known.Length > 0)
        {
            int at = written.AsSpan().IndexOfAny(System.Buffers.SearchValues.Create(known, StringComparison.Ordinal));
            if (at >= 0)
            {
                string secret = known.Where(k => written.AsSpan(at).StartsWith(k, StringComparison.Ordinal)).MaxBy(k => k.Length)!;
                Assert.Fail($"A secret ({secret[..4]}…, {secret.Length} chars) was written to stderr or a notification.");
            }
        }

        HashSet<string> challenges;
        lock (this.secrets)
        {
            challenges = new HashSet<string>(this.codeChallenges, StringComparer.Ordinal);
        }

        if (challenges.Count > 0)
        {
            foreach (System.Text.RegularExpressions.Match word in System.Text.RegularExpressions.Regex.Matches(written, "(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43,128}(?![A-Za-z0-9_-])"))
            {
                string challenge = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(word.Value))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                Assert.False(challenges.Contains(challenge), $"The code verifier behind code challenge {challenge} was written to stderr or a notification.");
            }
        }
    }

    /// <summary>Adds private key material the sidecar holds (e.g. read from the keyring) to what must never appear in its output.</summary>
    public void AddPrivateKeyMaterial(string material)
    {
        lock (this.privateKeys)
        {
            this.privateKeys.Add(material);
        }
    }

    /// <summary>
    /// Asserts that no private key ever left the sidecar, through any channel, results included: no PEM private key,
    /// no JWK with a private member (RFC 7518 §6.2.2, §6.3.2), no JWT (a DPoP proof) whose <c>jwk</c> header has one,
    /// and none of the DPoP keys its file store holds (their PKCS#8 and their <c>d</c>, <c>p</c>, <c>q</c>…) nor any
    /// a test added (<see cref="AddPrivateKeyMaterial"/>). Runs when every end-to-end test disposes its sidecar.
    /// </summary>
    public void AssertNoPrivateKeyLeaked()
    {
        string[] messages;
        lock (this.output)
        {
            messages = [.. this.output];
        }

        string everything = this.Stderr + "\n" + string.Join("\n", messages);
        Assert.DoesNotContain("PRIVATE KEY", everything, StringComparison.Ordinal);
        foreach (string message in messages)
        {
            PrivateKeyCheck.AssertNoPrivateJwk(JsonNode.Parse(message));
        }

        string[] known;
        lock (this.privateKeys)
        {
            known = [.. this.privateKeys, .. PrivateKeyCheck.StoredKeyMaterial(this.dataDirectory)];
        }

        foreach (string material in known)
        {
            Assert.False(everything.Contains(material, StringComparison.Ordinal), $"Private key material ({material.Length} chars) left the sidecar.");
        }
    }

    /// <summary>Everything the sidecar wrote besides results: stderr and every notification.</summary>
    public string AllDiagnostics() =>
        this.Stderr + "\n" + string.Join("\n", this.Notifications.Select(n => n.ToJsonString()));

    /// <summary>
    /// Ends the process (stdin closed; killed after 5 s), waits for all it wrote, then checks that no secret and no
    /// private key leaked (<see cref="CheckSecretsOnDispose"/>): the checks see everything the process wrote, to its
    /// last line.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!this.process.HasExited)
            {
                this.stdin.Close();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await this.process.WaitForExitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            this.process.Kill(entireProcessTree: true);
            await this.process.WaitForExitAsync();
        }

        await this.readLoop.WaitAsync(TimeSpan.FromSeconds(10));
        this.process.Dispose();
        this.writeGate.Dispose();
        if (this.CheckSecretsOnDispose)
        {
            this.AssertNoSecretLeaked();
            this.AssertNoPrivateKeyLeaked();
        }
    }

    // Every change waiters may look at (a notification, an unmatched response, a stderr line, the end of stdout)
    // completes the current signal and arms a new one.
    private void SignalChange()
    {
        TaskCompletionSource previous;
        lock (this.changedGate)
        {
            previous = this.changed;
            this.changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    // Looks, then waits for the next change and looks again: event driven, with a hang guard of `timeout`.
    private async Task<T> WaitForAsync<T>(Func<T?> probe, TimeSpan timeout, Func<string> describe)
        where T : class
    {
        using var bound = new CancellationTokenSource(timeout);
        while (true)
        {
            Task next;
            lock (this.changedGate)
            {
                next = this.changed.Task; // taken before looking, so a change in between is not missed
            }

            if (probe() is { } found)
            {
                return found;
            }

            if (this.readLoop.IsCompleted && this.stderrEnded)
            {
                throw new IOException("The sidecar closed stdout and stderr while the test waited. " + describe());
            }

            try
            {
                await next.WaitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException(describe());
            }
        }
    }

    private async Task AnswerAsync(Func<string, JsonNode?, Task<JsonNode?>> handler, string method, JsonNode? parameters, JsonNode id)
    {
        var response = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id };
        try
        {
            response["result"] = await handler(method, parameters);
        }
        catch (Exception ex)
        {
            response["error"] = new JsonObject { ["code"] = -32603, ["message"] = "the test declined: " + ex.Message };
        }

        await this.WriteMessageAsync(response.ToJsonString());
    }

    private void RememberSecrets(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach ((string key, JsonNode? value) in obj)
                {
                    if (value is JsonValue v && v.TryGetValue(out string? text))
                    {
                        if (SecretNames.Contains(key) && text.Length >= 8)
                        {
                            lock (this.secrets)
                            {
                                this.secrets.Add(text);
                            }
                        }
                        else if (key is "authUri" or "uri" && Uri.TryCreate(text, UriKind.Absolute, out Uri? uri)
                            && System.Web.HttpUtility.ParseQueryString(uri.Query)["code_challenge"] is { } challenge)
                        {
                            lock (this.secrets)
                            {
                                this.codeChallenges.Add(challenge);
                            }
                        }
                    }
                    else
                    {
                        this.RememberSecrets(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (JsonNode? item in array)
                {
                    this.RememberSecrets(item);
                }

                break;
        }
    }

    private static JsonNode? ToNode(object parameters) =>
        parameters as JsonNode ?? JsonSerializer.SerializeToNode(parameters);

    private static RpcError ToError(JsonObject error) =>
        new(error["code"]!.GetValue<int>(), error["message"]?.GetValue<string>() ?? string.Empty, error["data"]?.DeepClone());

    private async Task WriteMessageAsync(string json)
    {
        byte[] body = Encoding.UTF8.GetBytes(json);
        byte[] frame = this.newlineFraming
            ? [.. body, (byte)'\n']
            : [.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body];
        await this.WriteRawAsync(frame);
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await this.stdout.ReadAsync(chunk);
                if (read == 0)
                {
                    break;
                }

                buffer.Write(chunk, 0, read);
                while (this.TryTakeMessage(buffer, out string? json))
                {
                    lock (this.output)
                    {
                        this.output.Add(json!);
                    }

                    this.Dispatch(JsonNode.Parse(json!)!.AsObject());
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
        finally
        {
            foreach (TaskCompletionSource<JsonObject> tcs in this.pending.Values)
            {
                tcs.TrySetException(new IOException("The sidecar closed its stdout. stderr:\n" + this.Stderr));
            }

            this.SignalChange();
        }
    }

    private bool TryTakeMessage(MemoryStream buffer, out string? json)
    {
        json = null;
        byte[] data = buffer.GetBuffer();
        int length = (int)buffer.Length;
        if (this.newlineFraming)
        {
            int newline = Array.IndexOf(data, (byte)'\n', 0, length);
            if (newline < 0)
            {
                return false;
            }

            json = Encoding.UTF8.GetString(data, 0, newline);
            Consume(buffer, newline + 1);
            return true;
        }

        string text = Encoding.ASCII.GetString(data, 0, Math.Min(length, 256));
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        string header = text[..end];
        Assert.StartsWith("Content-Length: ", header, StringComparison.Ordinal);
        int bodyLength = int.Parse(header["Content-Length: ".Length..], CultureInfo.InvariantCulture);
        int start = end + 4;
        if (length < start + bodyLength)
        {
            return false;
        }

        json = Encoding.UTF8.GetString(data, start, bodyLength);
        Consume(buffer, start + bodyLength);
        return true;
    }

    private static void Consume(MemoryStream buffer, int count)
    {
        byte[] rest = buffer.GetBuffer().AsSpan(count, (int)buffer.Length - count).ToArray();
        buffer.SetLength(0);
        buffer.Write(rest);
    }

    private void Dispatch(JsonObject message)
    {
        bool hasId = message.TryGetPropertyValue("id", out JsonNode? idNode);
        string? id = idNode?.ToJsonString().Trim('"');
        if (message.ContainsKey("method"))
        {
            string method = message["method"]!.GetValue<string>();
            if (!hasId)
            {
                if (method is "callbackReceived" or "refreshTokenUpdated")
                {
                    this.RememberSecrets(message["params"]);
                }

                lock (this.notifications)
                {
                    this.notifications.Add(message);
                }

                this.SignalChange();
                return;
            }

            // A request from the sidecar (window/showDocument, auth/promptRedirect).
            if (this.AsyncRequestHandler is { } answer)
            {
                _ = this.AnswerAsync(answer, method, message["params"]?.DeepClone(), idNode!.DeepClone());
                return;
            }

            JsonNode? result = this.RequestHandler?.Invoke(method, message["params"]?.DeepClone());
            var response = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = idNode!.DeepClone() };
            if (result is null && this.RequestHandler is null)
            {
                response["error"] = new JsonObject { ["code"] = -32601, ["message"] = "not handled by the test" };
            }
            else
            {
                response["result"] = result;
            }

            _ = this.WriteMessageAsync(response.ToJsonString());
            return;
        }

        this.RememberSecrets(message["result"]);
        if (id is not null && this.pending.TryGetValue(id, out TaskCompletionSource<JsonObject>? tcs))
        {
            tcs.TrySetResult(message);
        }
        else
        {
            lock (this.unmatched)
            {
                this.unmatched.Add(message);
            }

            this.SignalChange();
        }
    }
}
