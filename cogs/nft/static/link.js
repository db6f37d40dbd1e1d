// GEMS wallet link page: EIP-6963 wallet discovery (fallback window.ethereum, EIP-1193),
// builds the EIP-4361 message from the server's challenge, asks for personal_sign, posts it back.
// No build step, no third-party code.
"use strict";

// --- keccak-256 (for the EIP-55 checksum of the address in the message) ---------------------
const MASK = (1n << 64n) - 1n;
const RC = [0x1n, 0x8082n, 0x800000000000808an, 0x8000000080008000n, 0x808bn, 0x80000001n,
  0x8000000080008081n, 0x8000000000008009n, 0x8an, 0x88n, 0x80008009n, 0x8000000an,
  0x8000808bn, 0x800000000000008bn, 0x8000000000008089n, 0x8000000000008003n,
  0x8000000000008002n, 0x8000000000000080n, 0x800an, 0x800000008000000an,
  0x8000000080008081n, 0x8000000000008080n, 0x80000001n, 0x8000000080008008n];
const ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56],
  [27, 20, 39, 8, 14]];

function rotl(v, n) {
  if (n === 0) return v;
  const b = BigInt(n);
  return ((v << b) | (v >> (64n - b))) & MASK;
}

function keccakF(A) {
  for (let round = 0; round < 24; round++) {
    const C = [];
    for (let x = 0; x < 5; x++) C[x] = A[x] ^ A[x + 5] ^ A[x + 10] ^ A[x + 15] ^ A[x + 20];
    for (let x = 0; x < 5; x++) {
      const D = C[(x + 4) % 5] ^ rotl(C[(x + 1) % 5], 1);
      for (let y = 0; y < 5; y++) A[x + 5 * y] ^= D;
    }
    const B = new Array(25);
    for (let x = 0; x < 5; x++)
      for (let y = 0; y < 5; y++) B[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(A[x + 5 * y], ROT[x][y]);
    for (let x = 0; x < 5; x++)
      for (let y = 0; y < 5; y++)
        A[x + 5 * y] = B[x + 5 * y] ^ ((~B[(x + 1) % 5 + 5 * y] & MASK) & B[(x + 2) % 5 + 5 * y]);
    A[0] ^= RC[round];
  }
}

function keccak256(bytes) {
  const rate = 136;
  const data = Array.from(bytes);
  data.push(0x01);
  while (data.length % rate) data.push(0);
  data[data.length - 1] |= 0x80;
  const A = new Array(25).fill(0n);
  for (let off = 0; off < data.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n;
      for (let b = 0; b < 8; b++) lane |= BigInt(data[off + i * 8 + b]) << BigInt(8 * b);
      A[i] ^= lane;
    }
    keccakF(A);
  }
  const out = [];
  for (let i = 0; i < 4; i++) for (let b = 0; b < 8; b++) out.push(Number((A[i] >> BigInt(8 * b)) & 0xffn));
  return out;
}

function toChecksumAddress(address) {
  const hex = address.toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new Error("the wallet returned an invalid address");
  const hash = keccak256(new TextEncoder().encode(hex));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1] >> (i % 2 ? 0 : 4)) & 0xf;
    out += nibble >= 8 ? hex[i].toUpperCase() : hex[i];
  }
  return out;
}

// --- EIP-4361 ---------------------------------------------------------------------------------
function buildMessage(c, address) {
  return [
    `${c.domain} wants you to sign in with your Ethereum account:`,
    address,
    "",
    c.statement,
    "",
    `URI: ${c.uri}`,
    `Version: ${c.version}`,
    `Chain ID: ${c.chainId}`,
    `Nonce: ${c.nonce}`,
    `Issued At: ${c.issuedAt}`,
    `Expiration Time: ${c.expirationTime}`,
    `Request ID: ${c.requestId}`,
  ].join("\n");
}

function utf8Hex(text) {
  return "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- page -------------------------------------------------------------------------------------
function startPage() {
  const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
  const statusEl = document.getElementById("status");
  const walletsEl = document.getElementById("wallets");
  let challenge = null;
  // Set once the member presses a wallet button: the discovery timer must not overwrite the
  // outcome of a link that finished (or failed) before it fired.
  let started = false;

  function show(text, kind) {
    statusEl.textContent = text;
    statusEl.className = kind || "";
  }

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ headers: { "Content-Type": "application/json" } }, options));
    let body = {};
    try { body = await response.json(); } catch (e) { body = { error: "Unexpected answer from the server." }; }
    if (!response.ok || body.error) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  async function link(provider) {
    started = true;
    for (const b of walletsEl.querySelectorAll("button")) b.disabled = true;
    try {
      show("Asking your wallet for an account…");
      const accounts = await provider.request({ method: "eth_requestAccounts" });
      if (!accounts || !accounts.length) throw new Error("The wallet shared no account.");
      const address = toChecksumAddress(accounts[0]);
      const message = buildMessage(challenge, address);
      show("Please sign the message in your wallet…");
      const signature = await provider.request({ method: "personal_sign", params: [utf8Hex(message), accounts[0]] });
      show("Checking the signature…");
      const result = await api("/wallet/api/verify", {
        method: "POST", body: JSON.stringify({ token, message, signature }),
      });
      show(`Linked ${result.address}. ${result.roles_text || ""} You can close this page.`, "ok");
    } catch (error) {
      show(error && error.message ? error.message : String(error), "error");
      for (const b of walletsEl.querySelectorAll("button")) b.disabled = false;
    }
  }

  const providers = new Map();

  function addWallet(name, provider) {
    if (providers.has(provider)) return;
    providers.set(provider, name);
    const button = document.createElement("button");
    button.textContent = `Sign with ${name}`;
    button.addEventListener("click", () => link(provider));
    walletsEl.appendChild(button);
  }

  window.addEventListener("eip6963:announceProvider", (event) => {
    const detail = event.detail || {};
    if (detail.provider && detail.info) addWallet(String(detail.info.name || "wallet").slice(0, 40), detail.provider);
  });

  async function main() {
    try {
      challenge = await api(`/wallet/api/challenge/${encodeURIComponent(token)}`);
    } catch (error) {
      document.getElementById("statement").textContent = "";
      show(error.message, "error");
      return;
    }
    document.getElementById("statement").textContent = challenge.statement;
    window.dispatchEvent(new Event("eip6963:requestProvider"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (started) return;
    if (!providers.size && window.ethereum) addWallet("your browser wallet", window.ethereum);
    if (!providers.size) show("No browser wallet found. Install one (or open this page in your wallet's browser).", "error");
    else show("Choose your wallet.");
  }
  main();
}

if (typeof document !== "undefined") startPage();
if (typeof module !== "undefined") module.exports = { keccak256, toChecksumAddress, buildMessage };
