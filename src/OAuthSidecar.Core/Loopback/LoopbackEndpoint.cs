using System.Security.Cryptography.X509Certificates;

namespace OAuthSidecar.Core.Loopback;

/// <summary>Where a loopback listener binds (RFC 8252 §7.3).</summary>
/// <param name="Scheme"><c>http</c> or <c>https</c>.</param>
/// <param name="Host"><c>127.0.0.1</c>, <c>::1</c>, <c>localhost</c> (both loopback addresses), or another address when <paramref name="AllowNonLoopback"/> is set.</param>
/// <param name="Port">The port; 0 lets the OS choose a free one, bound directly (no probe-then-bind race).</param>
/// <param name="Certificate">The TLS certificate for <c>https</c>; the hub makes an ad-hoc one when <see langword="null"/>.</param>
/// <param name="AllowNonLoopback">Whether a non-loopback address (e.g. <c>0.0.0.0</c> in a container) may be bound.</param>
public sealed record LoopbackEndpoint(string Scheme, string Host, int Port, X509Certificate2? Certificate = null, bool AllowNonLoopback = false);
