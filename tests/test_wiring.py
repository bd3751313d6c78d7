"""The wiring, proven for every example: whatever LibreChat is told to call exists, and every key it needs is there.

The complete desired state (the LibreChat release included) comes from two in-process RunFunction calls, the
second observing what the first composed. Then, for each example:
- every URL or host:port LibreChat is given (chart env, env Secret, librechat.yaml, allowedAddresses) resolves to
  a composed Service with that name, namespace and port;
- every ${VAR} in librechat.yaml is set in LibreChat's env;
- every Secret key a composed workload references is produced by the render or named in the spec.
Switching speech implementations or toggling services changes only what it should.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import xp
import yaml

from function.services.librechat import CONFIG_KEY
from tests.helpers import (
    SEED,
    carried_secrets,
    desired,
    example_observed,
    fatal,
    request,
    required_for,
    results,
    run,
    yaml_docs,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/xr.yaml"))
IN_CLUSTER = re.compile(r"^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$")


def run_observing(
    xr: dict[str, Any],
    secrets: list[dict[str, Any]],
    observed_state: dict[str, dict[str, Any]],
    connections: dict[str, dict[str, str]] | None = None,
    function_input: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Desired state when the cluster already holds observed_state (named as Crossplane would name it)."""
    observed = {
        k: {**v, "metadata": {**v["metadata"], "name": v["metadata"].get("name", k)}} for k, v in observed_state.items()
    }
    rsp = run(
        request(
            xr,
            observed=observed,
            required=required_for(xr, secrets),
            seed=SEED,
            connections=connections,
            function_input=function_input,
        )
    )
    assert fatal(rsp) is None, results(rsp)
    return desired(rsp)


def full_state(
    xr: dict[str, Any],
    secrets: list[dict[str, Any]],
    observed: dict[str, dict[str, Any]] | None = None,
    connections: dict[str, dict[str, str]] | None = None,
    function_input: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Desired state once every round of resources exists (what waits for another is composed too)."""
    base = dict(observed or {})
    state = run_observing(xr, secrets, base, connections, function_input)
    for _ in range(4):
        grown = run_observing(xr, secrets, {**state, **base}, connections, function_input)
        if grown.keys() == state.keys():
            return grown
        state = grown
    return state


def example_state(example: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    observed, connections = example_observed(example)
    secrets = yaml_docs(example / "required-resources.yaml")
    return xr, full_state(xr, secrets, observed, connections, xp.step_input(example))


def manifests(state: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every Kubernetes object the workspace ends up with (unwrapping Objects); in a placement, the Secrets the
    aiworkspace-secrets chart renders there from the carried values instead of the control plane's."""
    carried = carried_secrets(state)
    out = []
    for body in state.values():
        if body["kind"] == "Object":
            out.append(body["spec"]["forProvider"]["manifest"])
        elif body["kind"] == "ConfigMap" or (body["kind"] == "Secret" and carried is None):
            out.append(body)
    return out + (carried or [])


def services(state: dict[str, dict[str, Any]]) -> set[tuple[str, str, int]]:
    return {
        (m["metadata"]["name"], m["metadata"]["namespace"], port["port"])
        for m in manifests(state)
        if m["kind"] == "Service"
        for port in m["spec"]["ports"]
    }


def librechat_inputs(state: dict[str, dict[str, Any]]) -> tuple[dict[str, str], dict[str, Any]]:
    """LibreChat's env (chart configEnv overlaid by the env Secret, as envFrom orders them) and its config."""
    release = state["librechat-release"]["spec"]["forProvider"]["values"]
    env = {k: v for k, v in release["librechat"]["configEnv"].items() if v is not None}
    secret_name = release["global"]["librechat"]["existingSecretName"]
    env_secret = next(m for m in manifests(state) if m["kind"] == "Secret" and m["metadata"]["name"] == secret_name)
    env.update({k: base64.b64decode(v).decode() for k, v in env_secret["data"].items()})
    config_name = release["librechat"]["existingConfigYaml"]
    config_map = next(m for m in manifests(state) if m["kind"] == "ConfigMap" and m["metadata"]["name"] == config_name)
    return env, yaml.safe_load(config_map["data"][CONFIG_KEY])


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def _address(value: str) -> tuple[str, int] | None:
    """(host, port) of a URL or host:port string, if it names a host."""
    if "://" in value:
        parts = urlsplit(value)
        if not parts.hostname:
            return None
        default = 443 if parts.scheme in ("https", "wss") else 80
        return parts.hostname, parts.port or default
    match = re.fullmatch(r"([a-z0-9.-]+):(\d+)", value)
    return (match.group(1), int(match.group(2))) if match else None


@pytest.fixture(params=EXAMPLES, ids=[p.name for p in EXAMPLES])
def state(request: pytest.FixtureRequest) -> tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]:
    example: Path = request.param
    xr, full = example_state(example)
    return example, xr, full


def test_in_cluster_addresses_resolve_to_composed_services(state: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """Every in-cluster URL or host:port LibreChat is given names a composed Service, namespace and port.

    Addresses the team wrote into the spec (its own MCP servers) are its own to provide.
    """
    _, xr, full = state
    env, config = librechat_inputs(full)
    composed = services(full)
    team_given = {a for a in map(_address, _strings(xr["spec"])) if a}
    checked = 0
    for value in [*env.values(), *_strings(config)]:
        address = _address(value)
        if not address or not IN_CLUSTER.match(address[0]) or address in team_given:
            continue
        service, namespace = IN_CLUSTER.match(address[0]).groups()  # type: ignore[union-attr]
        assert (service, namespace, address[1]) in composed, f"{value} names no composed Service"
        checked += 1
    assert checked >= 2, "Meilisearch and Valkey at least are always wired in-cluster"


def test_allowed_addresses_cover_every_in_cluster_call(state: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """Each in-cluster host:port of web search, speech and MCP is exempted in the matching allowedAddresses."""
    _, _, full = state
    env, config = librechat_inputs(full)

    def resolved(value: str) -> str:
        match = re.fullmatch(r"\$\{(\w+)\}", value)
        return env[match.group(1)] if match else value

    def needs(block: Any) -> set[str]:
        out = set()
        for value in _strings(block):
            address = _address(resolved(value))
            if address and IN_CLUSTER.match(address[0]):
                out.add(f"{address[0]}:{address[1]}")
        return out

    web = config.get("webSearch", {})
    assert needs({k: v for k, v in web.items() if k != "allowedAddresses"}) <= set(web.get("allowedAddresses", []))
    for direction in ("stt", "tts"):
        block = config.get("speech", {}).get(direction, {})
        assert needs(block.get("openai", {})) <= set(block.get("allowedAddresses", []))
    assert needs(config.get("mcpServers", {})) <= set(config.get("mcpSettings", {}).get("allowedAddresses", []))


def test_env_references_are_set(state: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """Every ${VAR} in librechat.yaml is an env var LibreChat has (web search URLs and keys are all references)."""
    _, _, full = state
    env, config = librechat_inputs(full)
    referenced = {m for s in _strings(config) for m in re.findall(r"\$\{(\w+)\}", s)}
    assert referenced <= set(env), f"unset: {sorted(referenced - set(env))}"
    web = config.get("webSearch", {})
    for key in ("searxngInstanceUrl", "firecrawlApiUrl", "firecrawlApiKey", "jinaApiKey", "cohereApiKey"):
        if key in web:
            assert re.fullmatch(r"\$\{\w+\}", web[key]), f"webSearch.{key} must be a ${{ENV}} reference"
    if "firecrawlApiUrl" in web:
        assert not env["FIRECRAWL_API_URL"].rstrip("/").endswith(("/v1", "/v2"))
        assert env["FIRECRAWL_API_KEY"], "LibreChat refuses to scrape with an empty Firecrawl key"


def test_secret_keys_exist(state: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """Every secretKeyRef of a composed workload is produced by the render or named in the spec."""
    _, xr, full = state
    produced = {(m["metadata"]["name"], key) for m in manifests(full) if m["kind"] == "Secret" for key in m["data"]}
    named = {(r["name"], r["key"]) for r in _refs(xr["spec"])}
    for m in manifests(full):
        if m["kind"] != "Deployment":
            continue
        for container in m["spec"]["template"]["spec"]["containers"]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert (ref["name"], ref["key"]) in produced | named, f"{m['metadata']['name']}: {ref}"


def _refs(node: Any) -> list[dict[str, str]]:
    if isinstance(node, dict):
        if set(node) == {"name", "key"}:
            return [node]
        return [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_exactly_one_speech_provider(state: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """LibreChat fails with "Multiple providers are set" otherwise."""
    _, _, full = state
    _, config = librechat_inputs(full)
    for direction in ("stt", "tts"):
        block = config.get("speech", {}).get(direction)
        if block:
            assert len([k for k in block if k != "allowedAddresses"]) == 1


# Switching and toggling: what changes, and only that.


def _mixed() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    example = ROOT / "examples" / "plan-mixed-namespaced"
    return yaml.safe_load((example / "xr.yaml").read_text()), yaml_docs(example / "required-resources.yaml")


def _diff(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def test_switching_stt_to_speaches_changes_only_speech() -> None:
    """OpenAI STT -> Speaches STT: only LibreChat's config, env Secret and release (config checksum) change."""
    xr, secrets = _mixed()
    before = full_state(xr, secrets)
    xr["spec"]["librechat"]["stt"]["implementation"] = "speaches"
    after = full_state(xr, secrets)
    assert _diff(before, after) == {"librechat-config", "librechat-env", "librechat-release"}
    _, config_before = librechat_inputs(before)
    env_after, config_after = librechat_inputs(after)
    assert config_before["speech"]["tts"] == config_after["speech"]["tts"], "TTS must not move"
    assert "url" not in config_before["speech"]["stt"]["openai"]
    assert config_after["speech"]["stt"]["openai"]["url"].endswith(":8000/v1/audio/transcriptions")
    assert {k for k in config_before if config_before[k] != config_after[k]} == {"speech"}
    speaches_key = base64.b64decode(
        next(m for m in manifests(after) if m["metadata"]["name"] == "ai-workspace-speaches" and m["kind"] == "Secret")[
            "data"
        ]["api-key"]
    ).decode()
    assert env_after["STT_API_KEY"] == speaches_key


SPEECH_KEYS = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "speech-keys", "namespace": "team-a"},
    "data": {
        "azure": base64.b64encode(b"azure-speech-key-0123456789").decode(),
        "eleven": base64.b64encode(b"eleven-speech-key-0123456789").decode(),
    },
}
AZURE_SPEECH = {
    "enabled": True,
    "instanceName": "team-a-openai",
    "apiKeySecretRef": {"name": "speech-keys", "key": "azure"},
    "tts": {"deploymentName": "tts-hd", "model": "tts-1-hd", "voice": "nova"},
}
ELEVENLABS = {
    "enabled": True,
    "apiKeySecretRef": {"name": "speech-keys", "key": "eleven"},
    "voices": ["21m00Tcm4TlvDq8ikWAM"],
}


@pytest.mark.parametrize(
    ("stt", "tts", "want_stt", "want_tts"),
    [
        ("azureOpenAI", "elevenLabs", "azureOpenAI", "elevenlabs"),
        ("speaches", "azureOpenAI", "openai", "azureOpenAI"),
        ("azureOpenAI", "azureOpenAI", "azureOpenAI", "azureOpenAI"),
        ("openai", "elevenLabs", "openai", "elevenlabs"),
    ],
)
def test_any_mix_of_speech_providers(stt: str, tts: str, want_stt: str, want_tts: str) -> None:
    """Azure OpenAI (STT and TTS) and ElevenLabs (TTS) mix with the others: each direction gets exactly its
    provider's block, with its key by reference (copied once into LibreChat's env Secret, named in the config as
    ${ENV}); only speech changes, and the keys of providers not selected are not copied."""
    xr, secrets = _mixed()
    before = full_state(xr, secrets)
    xr["spec"]["azureOpenAI"], xr["spec"]["elevenLabs"] = AZURE_SPEECH, ELEVENLABS
    xr["spec"]["librechat"]["stt"]["implementation"] = stt
    xr["spec"]["librechat"]["tts"]["implementation"] = tts
    after = full_state(xr, [*secrets, SPEECH_KEYS])
    env, config = librechat_inputs(after)
    providers = {d: [k for k in config["speech"][d] if k != "allowedAddresses"] for d in ("stt", "tts")}
    assert providers == {"stt": [want_stt], "tts": [want_tts]}
    if "azureOpenAI" in (stt, tts):
        assert env["AZURE_OPENAI_SPEECH_API_KEY"] == "azure-speech-key-0123456789"
    else:
        assert "AZURE_OPENAI_SPEECH_API_KEY" not in env
    if tts == "azureOpenAI":
        assert config["speech"]["tts"]["azureOpenAI"] == {
            "apiKey": "${AZURE_OPENAI_SPEECH_API_KEY}",
            "instanceName": "team-a-openai",
            "deploymentName": "tts-hd",
            "apiVersion": "2024-06-01",
            "model": "tts-1-hd",
            "voices": ["nova"],
        }
    if stt == "azureOpenAI":
        assert "model" not in config["speech"]["stt"]["azureOpenAI"], "the STT deployment is the model"
    if tts == "elevenLabs":
        assert config["speech"]["tts"]["elevenlabs"]["voices"] == ["21m00Tcm4TlvDq8ikWAM"]
        assert env["ELEVENLABS_API_KEY"] == "eleven-speech-key-0123456789"
        assert config["speech"]["speechTab"]["textToSpeech"]["voice"] == "21m00Tcm4TlvDq8ikWAM"
    changed = _diff(before, after) - {"librechat-networkpolicy", "speaches-networkpolicy"}
    assert changed <= {"librechat-config", "librechat-env", "librechat-release"}, changed


def test_azure_instance_names_keep_the_key_at_azure() -> None:
    """LibreChat takes an instance name holding ".azure.com" as a whole host: a name that would send the key
    elsewhere is refused, naming the field."""
    xr, secrets = _mixed()
    xr["spec"]["azureOpenAI"] = {**AZURE_SPEECH, "instanceName": "evil.example/x?.azure.com"}
    xr["spec"]["librechat"]["stt"]["implementation"] = "azureOpenAI"
    rsp = run(request(xr, required=required_for(xr, [*secrets, SPEECH_KEYS]), seed=SEED))
    assert "spec.azureOpenAI.instanceName" in (fatal(rsp) or "")


def test_switching_tts_to_openai_keeps_speaches_running_for_nothing_else() -> None:
    """Speaches TTS -> OpenAI TTS: speech config changes; Speaches itself stays (it is still enabled)."""
    xr, secrets = _mixed()
    before = full_state(xr, secrets)
    xr["spec"]["librechat"]["tts"]["implementation"] = "openai"
    after = full_state(xr, secrets)
    # LibreChat no longer calls Speaches, so neither policy allows that call any more.
    assert _diff(before, after) == {
        "librechat-config",
        "librechat-env",
        "librechat-release",
        "librechat-networkpolicy",
        "speaches-networkpolicy",
    }
    _, config = librechat_inputs(after)
    # OpenAI's speech sends the workspace's OpenAI key, copied once (as OPENAI_API_KEY).
    assert config["speech"]["tts"] == {"openai": {"apiKey": "${OPENAI_API_KEY}", "model": "tts-1", "voices": ["nova"]}}
    assert "speaches-deployment" in after


def test_disabling_searxng_removes_only_search() -> None:
    """searxng.enabled false: its resources go, web search keeps the scraper, nothing else changes."""
    xr, secrets = _mixed()
    before = full_state(xr, secrets)
    xr["spec"]["searxng"]["enabled"] = False
    after = full_state(xr, secrets)
    removed = set(before) - set(after)
    assert removed == {
        "searxng-secret",
        "searxng-settings",
        "searxng-deployment",
        "searxng-service",
        "searxng-networkpolicy",
    }
    # The callers' policies no longer allow calls to SearXNG, nor Valkey's from it.
    assert _diff(before, after) - removed == {
        "librechat-config",
        "librechat-release",
        "firecrawl-api-deployment",
        "firecrawl-worker-deployment",
        "firecrawl-nuq-worker-deployment",
        "firecrawl-extract-worker-deployment",
        "librechat-networkpolicy",
        "redis-networkpolicy",
        *(f"{p}-networkpolicy" for p in ("firecrawl-api", "firecrawl-worker", "firecrawl-nuq-worker")),
        "firecrawl-extract-worker-networkpolicy",
    }
    _, config = librechat_inputs(after)
    assert "searchProvider" not in config["webSearch"] and config["webSearch"]["scraperProvider"] == "firecrawl"


def test_disabling_firecrawl_keeps_its_data() -> None:
    """firecrawl.enabled false: its workloads go, but the volumes holding its queue data stay."""
    xr, secrets = _mixed()
    before = full_state(xr, secrets)
    xr["spec"]["firecrawl"]["enabled"] = False
    after = run_observing(xr, secrets, before)
    assert {"firecrawl-postgres-pvc", "firecrawl-redis-pvc"} <= set(after)
    assert "firecrawl-api-deployment" not in after
