// An example VS Code authentication provider on oauth-sidecar, through @oauth-sidecar/client.
//
// Other extensions ask for a token with
//   vscode.authentication.getSession('oauth-sidecar', ['openid', 'profile'], { createIfNone: true })
// and this provider answers from the sidecar: stored or refreshed credentials silently, else a
// sign-in by the sidecar's `auto` chain: the browser (the sidecar asks us to open it with
// window/showDocument; on a remote window only when VS Code forwards the loopback port, found with
// vscode.env.asExternalUri), else the device flow (a notification with the code), else the user
// pastes the address the browser ended on into an input box (auth/promptRedirect).
import * as vscode from 'vscode';
import {
  ErrorCodes,
  MessageType,
  isSidecarError,
  spawnSidecar,
  type SidecarClient,
  type StorageBackend,
  type TokenResult,
} from '@oauth-sidecar/client';

const PROVIDER_ID = 'oauth-sidecar';
const PROVIDER_LABEL = 'OAuth Sidecar';
const SECTION = 'oauthSidecarExample';

/** A running sidecar with our OAuth client registered in it. */
interface Connection {
  client: SidecarClient;
  clientHandle: string;
}

class SidecarAuthenticationProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changed.event;
  private connection: Promise<Connection> | undefined;
  /** The sessions handed out, by id (the account), to report them when they go away. */
  private readonly sessions = new Map<string, vscode.AuthenticationSession>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** Whether the issuer and client id are set. */
  configured(): boolean {
    const config = vscode.workspace.getConfiguration(SECTION);
    return Boolean(config.get<string>('issuer') && config.get<string>('clientId'));
  }

  /** The sidecar, spawned on first use (and again after a configuration change or a crash). */
  connect(): Promise<Connection> {
    this.connection ??= this.start().catch((err: unknown) => {
      this.connection = undefined;
      throw err;
    });
    return this.connection;
  }

  private async start(): Promise<Connection> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const issuer = config.get<string>('issuer');
    const clientId = config.get<string>('clientId');
    if (!issuer || !clientId) throw new Error(`Set ${SECTION}.issuer and ${SECTION}.clientId in the settings first.`);
    const storage = config.get<StorageBackend>('storage', 'keyring');

    const client = await spawnSidecar({ path: config.get<string>('sidecarPath') || undefined });
    client.onLogMessage(({ type, message }) => {
      if (type === MessageType.Error) this.log.error(message);
      else if (type === MessageType.Warning) this.log.warn(message);
      else if (type === MessageType.Info) this.log.info(message);
      else this.log.trace(message);
    });
    // The sidecar asks us to open the authorization URL: VS Code knows how (also in remote windows).
    client.onShowDocument(async ({ uri }) => {
      if (!(await loopbackReachable(uri, this.log))) return { success: false }; // the sidecar goes on: device flow, else paste
      return { success: await vscode.env.openExternal(vscode.Uri.parse(uri)) };
    });
    // No browser can reach the loopback server (and no device flow): the user signs in on any machine and
    // pastes the address the browser ended on. Cancelled when the redirect reached the loopback server first.
    client.onPromptRedirect(async ({ authUri, redirectUri, message, error }, token) => {
      const open = 'Open sign-in page';
      if (!error && (await vscode.window.showInformationMessage(message, open)) === open) {
        await vscode.env.openExternal(vscode.Uri.parse(authUri));
      }
      const url = await vscode.window.showInputBox(
        {
          title: 'Sign in with OAuth Sidecar',
          prompt: error ? error.message : `Paste the address the browser ended on (it starts with ${redirectUri}).`,
          placeHolder: `${redirectUri}?code=…&state=…`,
          ignoreFocusOut: true,
          validateInput: (value) => (value.trim().startsWith(redirectUri) ? undefined : `The address starts with ${redirectUri}.`),
        },
        token,
      );
      return url ? { url } : undefined; // undefined: the user cancelled (the sign-in fails with -32008)
    });
    // Every interactive sign-in: the address to open, in the log (the device code has its own notification).
    client.onAuthorizationUrl(({ message }) => this.log.info(message));
    // getCredentials chose the device flow: show the code.
    client.onDeviceCode(({ message, userCode }) => {
      void vscode.window.showInformationMessage(message, 'Copy code').then((choice) => {
        if (choice === 'Copy code') void vscode.env.clipboard.writeText(userCode);
      });
    });
    // The server refused a refresh token: that account is signed out.
    client.onRefreshTokenRemoved(({ account }) => {
      const session = account ? this.sessions.get(account) : undefined;
      if (session) this.forget([session]);
    });
    client.onClose(() => {
      this.log.warn(`The sidecar stopped.${client.process ? ` Its log:\n${client.process.stderr}` : ''}`);
      this.connection = undefined;
    });

    try {
      // onShowDocument and onPromptRedirect are registered, so initialize declares capabilities.showDocument
      // and capabilities.promptRedirect.
      await client.initialize({ clientInfo: { name: 'vscode-oauth-sidecar-example', version: vscode.version }, storage });
      const scopes = config.get<string[]>('scopes', ['openid', 'offline_access', 'profile']);
      const { clientHandle } = await client.createClient({ issuer, clientId, scopes, storage });
      return { client, clientHandle };
    } catch (err) {
      await client.dispose();
      throw err;
    }
  }

  /** Stops the sidecar; the next call starts a new one (with the new settings). */
  async restart(): Promise<void> {
    const previous = this.connection;
    this.connection = undefined;
    this.forget([...this.sessions.values()]);
    await previous?.then((c) => c.client.dispose(), () => undefined);
  }

  async getSessions(
    scopes: readonly string[] | undefined,
    options: vscode.AuthenticationProviderSessionOptions,
  ): Promise<vscode.AuthenticationSession[]> {
    if (!this.configured()) return [];
    const { client, clientHandle } = await this.connect();
    const accounts = (await client.listAccounts({ clientHandle })).filter(
      (a) => (!options.account || a.account === options.account.id) && (!scopes || scopes.every((s) => a.scopes.includes(s))),
    );
    const sessions: vscode.AuthenticationSession[] = [];
    for (const account of accounts) {
      try {
        // Stored, or refreshed silently; never a browser from here.
        const tokens = await client.getCredentials({ clientHandle, account: account.account, scopes: scopes ?? account.scopes, interactive: 'none' });
        sessions.push(this.remember(tokens, account.username ?? undefined));
      } catch (err) {
        if (isSidecarError(err, ErrorCodes.InteractionRequired)) continue; // needs a new sign-in
        throw err;
      }
    }
    return sessions;
  }

  async createSession(scopes: readonly string[]): Promise<vscode.AuthenticationSession> {
    const { client, clientHandle } = await this.connect();
    const tokens = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Signing in with OAuth Sidecar…', cancellable: true },
      (_progress, token) => {
        // Cancel in VS Code → AbortSignal → $/cancelRequest to the sidecar.
        const controller = new AbortController();
        const subscription = token.onCancellationRequested(() => controller.abort());
        return client
          .getCredentials({ clientHandle, scopes: scopes.length ? scopes : undefined, interactive: 'auto' }, { signal: controller.signal })
          .finally(() => subscription.dispose());
      },
    );
    const accounts = await client.listAccounts({ clientHandle });
    const session = this.remember(tokens, accounts.find((a) => a.account === tokens.account)?.username ?? undefined);
    this.changed.fire({ added: [session], removed: [], changed: [] });
    return session;
  }

  async removeSession(sessionId: string): Promise<void> {
    // One session per account: signing out forgets (and revokes) that account's tokens.
    const { client, clientHandle } = await this.connect();
    await client.signOut({ clientHandle, account: sessionId });
    const session = this.sessions.get(sessionId);
    if (session) this.forget([session]);
  }

  private remember(tokens: TokenResult, username: string | undefined): vscode.AuthenticationSession {
    const id = tokens.account ?? 'default';
    const session: vscode.AuthenticationSession = {
      id,
      accessToken: tokens.accessToken,
      account: { id, label: username ?? id },
      scopes: tokens.scopes,
    };
    this.sessions.set(id, session);
    return session;
  }

  private forget(removed: vscode.AuthenticationSession[]): void {
    for (const session of removed) this.sessions.delete(session.id);
    if (removed.length) this.changed.fire({ added: [], removed, changed: [] });
  }

  async dispose(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.changed.dispose();
    await connection?.then((c) => c.client.dispose(), () => undefined);
  }
}

/**
 * Whether a browser opened by VS Code reaches the sidecar's loopback server (the authorization
 * request's redirect_uri). Locally it does. In a remote window (SSH, WSL, containers) VS Code
 * forwards the port when asked with asExternalUri; the redirect lands only if the forwarded address
 * is the same loopback address (in a Codespace in the browser it is another host: it cannot).
 */
async function loopbackReachable(authUri: string, log: vscode.LogOutputChannel): Promise<boolean> {
  if (!vscode.env.remoteName) return true;
  const redirect = new URL(authUri).searchParams.get('redirect_uri');
  if (!redirect) return true;
  const local = vscode.Uri.parse(redirect);
  const external = await vscode.env.asExternalUri(local);
  const same = external.scheme === local.scheme && external.authority === local.authority;
  if (!same) log.info(`The loopback redirect ${redirect} is forwarded as ${external.toString()}: the browser cannot land on it, so the sidecar falls back.`);
  return same;
}

let provider: SidecarAuthenticationProvider | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel(PROVIDER_LABEL, { log: true });
  const current = new SidecarAuthenticationProvider(log);
  provider = current;
  context.subscriptions.push(
    log,
    vscode.authentication.registerAuthenticationProvider(PROVIDER_ID, PROVIDER_LABEL, current, { supportsMultipleAccounts: true }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) void current.restart();
    }),
    vscode.commands.registerCommand('oauthSidecarExample.signIn', async () => {
      const session = await vscode.authentication.getSession(PROVIDER_ID, [], { createIfNone: true });
      void vscode.window.showInformationMessage(`Signed in as ${session.account.label}.`);
    }),
  );
  // Spawn the sidecar now, so the first getSessions does not wait for it.
  if (current.configured()) current.connect().catch((err: unknown) => log.error(`Could not start the sidecar: ${String(err)}`));
}

export function deactivate(): Promise<void> | undefined {
  return provider?.dispose();
}
