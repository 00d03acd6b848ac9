// The verification panel of an item page (WEB.md, VERIFY.md). It fetches the item's proof
// bundle and the log's verifier key and, with WebCrypto alone (SHA-256, Ed25519), recomputes
// every digest, commitment, entry, leaf hash and root (RFC 9162 inclusion proofs), checks them
// against the signed checkpoint (C2SP tlog-checkpoint) and the checkpoint's signature (C2SP
// signed-note). The outcome goes on the panel as data-verification="pending|verified|failed",
// with a sentence for people and the record that failed.
"use strict";

(function () {
  const panel = document.getElementById("verification");
  if (!panel) return;

  const WORDS = {
    "pt-BR": {
      verified: (origin, when, n) =>
        `Verificado: este histórico está registrado no log da DeFarm ${origin} em ${when}, ${n} registros.`,
      failed: (record, why) => `Falhou: ${record} não confere com o log assinado (${why}).`,
      waiting: (n) => `${n} registro(s) ainda não entraram no log; verificando de novo…`,
      stillPending: (n) => `${n} registro(s) ainda não entraram no log. Recarregue a página em alguns minutos.`,
      unreachable: "Não foi possível buscar a prova. Recarregue a página.",
      noCrypto: "Este navegador não consegue verificar aqui (a página precisa de conexão segura, HTTPS).",
      the_log: "o log",
      reasons: {
        signature: "a assinatura do log não confere",
        key: "a chave do log é inválida",
        checkpoint: "o checkpoint é inválido",
        content: "o conteúdo mudou depois de registrado",
        chain: "a cadeia de versões está quebrada",
        commitment: "o compromisso não corresponde ao conteúdo",
        entry: "a entrada do log não corresponde",
        proof: "a prova de inclusão não leva à raiz assinada",
        malformed: "a prova está incompleta",
      },
    },
    en: {
      verified: (origin, when, n) =>
        `Verified: this history is recorded in the DeFarm log ${origin} as of ${when}, ${n} records.`,
      failed: (record, why) => `Failed: ${record} does not match the signed log (${why}).`,
      waiting: (n) => `${n} record(s) are not in the log yet; checking again…`,
      stillPending: (n) => `${n} record(s) are not in the log yet. Reload the page in a few minutes.`,
      unreachable: "The proof could not be fetched. Reload the page.",
      noCrypto: "This browser cannot check here (the page needs a secure connection, HTTPS).",
      the_log: "the log",
      reasons: {
        signature: "the log's signature does not check",
        key: "the log's key is malformed",
        checkpoint: "the checkpoint is malformed",
        content: "its content changed after it was logged",
        chain: "the chain of versions is broken",
        commitment: "the commitment does not open to this content",
        entry: "the log entry does not match",
        proof: "the inclusion proof does not lead to the signed root",
        malformed: "the proof is incomplete",
      },
    },
  };
  const lang = document.documentElement.lang === "en" ? "en" : "pt-BR";
  const words = WORDS[lang];
  const outcome = panel.querySelector(".outcome");

  function show(state, sentence, failedRecord) {
    panel.dataset.verification = state;
    if (failedRecord) panel.dataset.failedRecord = failedRecord;
    outcome.textContent = sentence;
  }

  class Failure extends Error {
    constructor(record, reason) {
      super(`${record}: ${reason}`);
      this.record = record;
      this.reason = reason;
    }
  }
  const fail = (record, reason) => {
    throw new Failure(record, reason);
  };

  const utf8 = (text) => new TextEncoder().encode(text);
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  function fromHex(text, record) {
    if (typeof text !== "string" || !/^([0-9a-f]{2})*$/.test(text)) fail(record, "malformed");
    return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
  }
  function fromBase64(text, record) {
    try {
      return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    } catch (_) {
      return fail(record, "malformed");
    }
  }
  const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));

  // RFC 8785 (JCS): object keys sorted by UTF-16 code units (what Array.prototype.sort does),
  // and numbers and strings as ECMAScript's JSON.stringify writes them.
  function canonical(value) {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }

  // C2SP signed-note verifier key: <name>+<key id, 8 hex>+<base64(0x01 || Ed25519 public key)>.
  async function openKey(text) {
    // The name and key id hold no "+"; the base64 key may.
    const match = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(text.trim());
    if (!match) fail(words.the_log, "key");
    const [, name, id, encoded] = match;
    const raw = fromBase64(encoded, words.the_log);
    if (raw.length !== 33 || raw[0] !== 1) fail(words.the_log, "key");
    const keyId = (await sha256(concat(utf8(name), utf8("\n"), raw))).slice(0, 4);
    if (hex(keyId) !== id) fail(words.the_log, "key");
    const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
    return { name, keyId, key };
  }

  // The note's text (through its last newline before the blank line) and a signature line
  // "— <name> <base64(key id || signature)>" by the key.
  async function openNote(note, verifier) {
    const split = note.lastIndexOf("\n\n");
    if (split < 0) fail(words.the_log, "checkpoint");
    const text = note.slice(0, split + 1);
    for (const line of note.slice(split + 2).split("\n")) {
      const match = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!match || match[1] !== verifier.name) continue;
      const signed = fromBase64(match[2], words.the_log);
      if (signed.length !== 68 || !same(signed.slice(0, 4), verifier.keyId)) continue;
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, verifier.key, signed.slice(4), utf8(text));
      if (ok) return text;
    }
    return fail(words.the_log, "signature");
  }

  function parseCheckpoint(text, origin) {
    const lines = text.split("\n");
    if (lines.length < 4 || lines[0] !== origin || !/^[0-9]+$/.test(lines[1])) fail(words.the_log, "checkpoint");
    const root = fromBase64(lines[2], words.the_log);
    if (root.length !== 32) fail(words.the_log, "checkpoint");
    return { size: BigInt(lines[1]), root };
  }

  const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

  // RFC 9162, 2.1.3.2: verifying an inclusion proof.
  async function rootFromInclusion(index, size, leaf, proof) {
    if (index >= size) return null;
    let fn = index;
    let sn = size - 1n;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0n) return null;
      if (fn % 2n === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2n === 0n) {
          while (fn % 2n === 0n && fn !== 0n) {
            fn /= 2n;
            sn /= 2n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn /= 2n;
      sn /= 2n;
    }
    return sn === 0n ? r : null;
  }

  // One fact: salt and digest give the commitment, the commitment the entry, the entry the
  // leaf, and the leaf with its proof the signed root.
  async function checkLogged(log, kind, digestHex, checkpoint, note, record) {
    if (!log || log.status !== "integrated") fail(record, "malformed");
    const salt = fromHex(log.salt, record);
    const digest = fromHex(digestHex, record);
    if (salt.length !== 16 || digest.length !== 32) fail(record, "malformed");
    const commitment = await sha256(concat(salt, digest));
    if (hex(commitment) !== log.commitment) fail(record, "commitment");
    const entry = fromBase64(log.entry || "", record);
    if (entry.length !== 41 || entry[0] !== kind || !same(entry.slice(1, 33), commitment)) fail(record, "entry");
    if (log.checkpoint !== note || BigInt(log.tree_size) !== checkpoint.size) fail(record, "proof");
    const proof = (log.inclusion_proof || []).map((h) => fromBase64(h, record));
    if (proof.some((h) => h.length !== 32) || !Number.isSafeInteger(log.leaf_index)) fail(record, "malformed");
    const leaf = await sha256(concat(Uint8Array.of(0), entry));
    const root = await rootFromInclusion(BigInt(log.leaf_index), checkpoint.size, leaf, proof);
    if (!root || !same(root, checkpoint.root)) fail(record, "proof");
  }

  async function verify(bundle, keyText) {
    const verifier = await openKey(keyText);
    const note = bundle.checkpoint;
    if (typeof note !== "string") fail(words.the_log, "malformed");
    const checkpoint = parseCheckpoint(await openNote(note, verifier), verifier.name);
    if (BigInt(bundle.tree_size) !== checkpoint.size || bundle.root_hash !== toBase64(checkpoint.root)) {
      fail(words.the_log, "checkpoint");
    }
    const dfid = bundle.dfid;
    const versions = Array.from(bundle.versions || []).reverse();
    let previous = null;
    for (const version of versions) {
      const record = `${lang === "en" ? "version" : "versão"} ${version.version}`;
      const stated = version.document_sha256;
      if (version.document && typeof version.document === "object") {
        const digest = hex(await sha256(utf8(canonical(version.document))));
        if (digest !== stated) fail(record, "content");
        if (version.document.dfid !== dfid || version.document.version !== version.version) fail(record, "content");
        if (version.version > 1 && previous !== null && version.document.previous_sha256 !== previous) {
          fail(record, "chain");
        }
      }
      await checkLogged(version.log, 2, stated, checkpoint, note, record);
      previous = stated;
    }
    for (const { event, log } of bundle.events || []) {
      const record = `${lang === "en" ? "event" : "evento"} ${event.event_type} (${event.event_id})`;
      const content = {
        dfid: event.dfid,
        event_type: event.event_type,
        source: event.source,
        metadata: event.metadata,
        occurred_at: event.occurred_at,
      };
      const digest = hex(await sha256(utf8(canonical(content))));
      if (digest !== event.content_hash || event.dfid !== dfid) fail(record, "content");
      await checkLogged(log, 1, digest, checkpoint, note, record);
    }
    for (const { receipt } of bundle.receipts || []) {
      const record = `receipt ${receipt.receipt_id}`;
      if (receipt.dfid !== dfid) fail(record, "content");
      await checkLogged(receipt.log, 3, receipt.sha256, checkpoint, note, record);
    }
    const records = versions.length + (bundle.events || []).length + (bundle.receipts || []).length;
    return { origin: verifier.name, size: checkpoint.size, records, note, key: keyText.trim() };
  }

  function showDetails(result) {
    const pre = panel.querySelector("pre.checkpoint");
    if (pre) pre.textContent = result.note;
    const list = panel.querySelector("details dl");
    if (list) {
      for (const [term, value] of [["origin", result.origin], ["tree size", String(result.size)]]) {
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = value;
        list.append(dt, dd);
      }
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function run() {
    if (!(window.crypto && crypto.subtle)) return show("failed", words.noCrypto, "browser");
    for (let attempt = 0; attempt < 30; attempt += 1) {
      let bundle, keyText;
      try {
        const [proof, key] = await Promise.all([
          fetch(panel.dataset.proof, { credentials: "same-origin", cache: "no-store" }),
          fetch("/log/key", { cache: "no-store" }),
        ]);
        if (!proof.ok || !key.ok) return show("failed", words.unreachable, "proof.json");
        bundle = await proof.json();
        keyText = await key.text();
      } catch (_) {
        return show("failed", words.unreachable, "proof.json");
      }
      if (bundle.pending > 0 || typeof bundle.checkpoint !== "string") {
        show("pending", words.waiting(bundle.pending || 1));
        await sleep(Math.min(1000 * (attempt + 1), 10000));
        continue;
      }
      try {
        const result = await verify(bundle, keyText);
        showDetails(result);
        return show("verified", words.verified(result.origin, new Date().toLocaleString(lang), result.records));
      } catch (err) {
        if (err instanceof Failure) {
          return show("failed", words.failed(err.record, words.reasons[err.reason] || err.reason), err.record);
        }
        return show("failed", words.failed(words.the_log, String(err && err.message)), "proof.json");
      }
    }
    return show("pending", words.stillPending(1));
  }

  run();
})();
