"""What the pinned upstream releases need to work once applied, beyond a schema-valid render.

Each test names the upstream fact it rests on (file and tag); the code that uses the fact cites it too.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from function.services import speaches
from function.services.librechat import CONFIG_KEY, ENV_CHECKSUM_ANNOTATION
from tests.helpers import (
    OPENAI_KEY,
    SEED,
    basic_spec,
    desired,
    example_observed,
    fatal,
    full_request,
    namespaced_xr,
    request,
    required_for,
    results,
    run,
    secret,
    yaml_docs,
)
from tests.test_wiring import example_state, full_state

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _deployment(state: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    manifest: dict[str, Any] = state[key]["spec"]["forProvider"]["manifest"]
    return manifest


def _librechat_config(state: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(state["librechat-config"]["data"][CONFIG_KEY])
    return config


# 1. Speaches v0.8.3 ------------------------------------------------------------------------------------------

# Every setting of speaches' Config at v0.8.3 (src/speaches/config.py; nested with "__"), plus the
# Hugging Face and uvicorn variables the image reads.
SPEACHES_083_SETTINGS = {
    "API_KEY",
    "LOG_LEVEL",
    "ALLOW_ORIGINS",
    "ENABLE_UI",
    "LOOPBACK_HOST_URL",
    "CHAT_COMPLETION_BASE_URL",
    "CHAT_COMPLETION_API_KEY",
    "UVICORN_HOST",
    "UVICORN_PORT",
    "WHISPER__INFERENCE_DEVICE",
    "WHISPER__DEVICE_INDEX",
    "WHISPER__COMPUTE_TYPE",
    "WHISPER__CPU_THREADS",
    "WHISPER__NUM_WORKERS",
    "WHISPER__TTL",
    "WHISPER__USE_BATCHED_MODE",
}


@pytest.fixture(scope="module")
def plan_basic() -> dict[str, dict[str, Any]]:
    _, state = example_state(EXAMPLES / "plan-basic-namespaced")
    return state


def test_speaches_sets_only_settings_of_its_release(plan_basic: dict[str, dict[str, Any]]) -> None:
    """PRELOAD_MODELS and the STT/TTS TTLs do not exist at 0.8.3; the Whisper TTL is WHISPER__TTL."""
    container = _deployment(plan_basic, "speaches-deployment")["spec"]["template"]["spec"]["containers"][0]
    names = {env["name"] for env in container["env"]}
    assert names <= SPEACHES_083_SETTINGS, names - SPEACHES_083_SETTINGS
    assert {"name": "WHISPER__TTL", "value": "-1"} in container["env"]


def _speaches_xr(language: str) -> dict[str, Any]:
    xr = yaml.safe_load((EXAMPLES / "plan-basic-namespaced" / "xr.yaml").read_text())
    xr["spec"]["speaches"]["stt"]["language"] = language
    return xr


@pytest.mark.parametrize("language", ["pt_BR", "zh-Hans", "auto", "EN"])
def test_a_stt_language_librechat_would_drop_is_refused(language: str) -> None:
    """LibreChat v0.8.8-rc1 (STTService.js, getValidatedLanguageCode) passes on only ISO 639-1 with a region at most;
    it drops anything else with a warning, so the team's language would silently become "detect"."""
    xr = _speaches_xr(language)
    message = fatal(run(request(xr, required=required_for(xr, []))))
    assert message and "spec.speaches.stt.language" in message and "ISO 639-1" in message, message


@pytest.mark.parametrize("language", ["en", "en-US", "pt-br"])
def test_a_stt_language_reaches_librechat_as_written(language: str) -> None:
    """What is admitted lands in speechTab.speechToText.languageSTT, and LibreChat's own check keeps it."""
    rsp = run(request(_speaches_xr(language), required=required_for(_speaches_xr(language), [])))
    assert fatal(rsp) is None
    config = yaml.safe_load(desired(rsp)["librechat-config"]["data"][CONFIG_KEY])
    assert config["speech"]["speechTab"]["speechToText"]["languageSTT"] == language
    assert re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", language.lower())  # STTService.js's own test


def test_speaches_probes_send_the_api_key(plan_basic: dict[str, dict[str, Any]]) -> None:
    """With API_KEY set, v0.8.3 guards every route, /health included (src/speaches/main.py, create_app)."""
    container = _deployment(plan_basic, "speaches-deployment")["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "httpGet" not in container[probe], f"{probe} would get 403 without the key"
        command = container[probe]["exec"]["command"]
        assert command[:3] == ["python", "-c", speaches.HEALTH_CHECK]
        assert command[3] == str(int(container["ports"][0]["containerPort"]))


class _Guarded(http.server.BaseHTTPRequestHandler):
    """/health behind a bearer key, as speaches 0.8.3 answers it."""

    key = "k-0123"

    def do_GET(self) -> None:
        ok = self.path == "/health" and self.headers.get("Authorization") == f"Bearer {self.key}"
        self.send_response(200 if ok else 403)
        self.end_headers()
        self.wfile.write(b"OK" if ok else b'{"detail":"Not authenticated"}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def guarded_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Guarded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()


def test_the_probe_program_passes_only_with_the_key(guarded_server: int) -> None:
    """The exec probe's program, run for real: healthy with the container's API_KEY, failing without it."""

    def probe(key: str) -> int:
        env = {**os.environ, "API_KEY": key}
        command = [sys.executable, "-c", speaches.HEALTH_CHECK, str(guarded_server)]
        return subprocess.run(command, env=env, capture_output=True, timeout=30, check=False).returncode

    assert probe(_Guarded.key) == 0
    assert probe("wrong") != 0


def test_models_are_downloaded_before_the_pod_is_ready(plan_basic: dict[str, dict[str, Any]]) -> None:
    """An init container fetches the chosen STT model and Kokoro onto the model volume with speaches' own code."""
    pod = _deployment(plan_basic, "speaches-deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    (init,) = pod["initContainers"]
    assert init["image"] == container["image"]
    assert init["command"] == [
        "python",
        "-c",
        speaches.DOWNLOAD_MODELS,
        "Systran/faster-whisper-large-v3",
        "speaches-ai/Kokoro-82M-v1.0-ONNX",
    ]
    assert init["volumeMounts"] == container["volumeMounts"]
    assert init["securityContext"] == container["securityContext"]
    # speaches v0.8.3 src/speaches/routers/models.py: POST /v1/models/{id} calls exactly these registries.
    assert "whisper.download_model_files_if_not_exist(sys.argv[1])" in speaches.DOWNLOAD_MODELS
    assert "kokoro.download_model_files_if_not_exist(sys.argv[2])" in speaches.DOWNLOAD_MODELS


# 2 and 3. Cloud Storage ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcp() -> dict[str, dict[str, Any]]:
    _, state = example_state(EXAMPLES / "gcp-namespaced")
    return state


def test_gcs_service_account_is_granted_the_bucket(gcp: dict[str, dict[str, Any]]) -> None:
    grant = gcp["gcp-files-iam-member"]
    assert (grant["apiVersion"], grant["kind"]) == ("storage.gcp.m.upbound.io/v1beta1", "BucketIAMMember")
    account = gcp["gcp-files-service-account"]["metadata"]["annotations"]["crossplane.io/external-name"]
    bucket = gcp["gcp-files-bucket"]["metadata"]["annotations"]["crossplane.io/external-name"]
    assert grant["spec"]["forProvider"] == {
        "bucket": bucket,
        "role": "roles/storage.objectUser",
        "member": f"serviceAccount:{account}@example-project.iam.gserviceaccount.com",
    }


def _gcp_desired(change: Any) -> dict[str, dict[str, Any]]:
    """The gcp-namespaced example's desired state once `change` has altered its observed resources."""
    example = EXAMPLES / "gcp-namespaced"
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    observed, connections = example_observed(example)
    observed = copy.deepcopy(observed)
    change(observed)
    required = required_for(xr, yaml_docs(example / "required-resources.yaml"))
    rsp = run(request(xr, observed=observed, required=required, connections=connections))
    assert fatal(rsp) is None, results(rsp)
    return desired(rsp)


def test_gcs_grant_waits_for_the_account_email_and_librechat_waits_for_the_grant() -> None:
    """The member names the account by its email, which only the provider reports; LibreChat starts once the
    grant is Ready, not before (it would get 403 from the bucket)."""

    def no_email(observed: dict[str, dict[str, Any]]) -> None:
        observed["gcp-files-service-account"]["status"].pop("atProvider")
        del observed["gcp-files-iam-member"]

    def grant_unready(observed: dict[str, dict[str, Any]]) -> None:
        observed["gcp-files-iam-member"]["status"]["conditions"][0]["status"] = "False"
        del observed["librechat-release"]

    assert "gcp-files-iam-member" not in _gcp_desired(no_email)
    assert "librechat-release" not in _gcp_desired(grant_unready)


def _files_env(state: dict[str, dict[str, Any]]) -> dict[str, str]:
    return dict(state["librechat-release"]["spec"]["forProvider"]["values"]["librechat"]["configEnv"])


def test_checksum_settings_only_for_gcs(gcp: dict[str, dict[str, Any]]) -> None:
    """AWS SDK v3 >= 3.729 sends checksums Cloud Storage's XML API refuses: GCS gets both settings, S3 neither."""
    env = _files_env(gcp)
    assert env["AWS_REQUEST_CHECKSUM_CALCULATION"] == "WHEN_REQUIRED"
    assert env["AWS_RESPONSE_CHECKSUM_VALIDATION"] == "WHEN_REQUIRED"
    _, aws = example_state(EXAMPLES / "aws-namespaced")
    assert not {"AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION"} & set(_files_env(aws))


# 4. A rotated key reaches LibreChat --------------------------------------------------------------------------------


def _env_fingerprint(openai_key: str, seed: str = SEED) -> tuple[str, dict[str, dict[str, Any]]]:
    xr = namespaced_xr(basic_spec())
    secrets = [secret("openai", {"api-key": openai_key})]
    observed = full_state(xr, secrets)
    rsp = run(request(xr, observed=observed, required=required_for(xr, secrets), seed=seed))
    assert fatal(rsp) is None, results(rsp)
    state = desired(rsp)
    annotations = state["librechat-release"]["spec"]["forProvider"]["values"]["podAnnotations"]
    return str(annotations[ENV_CHECKSUM_ANNOTATION]), state


def test_pods_roll_when_a_referenced_key_changes() -> None:
    before, state = _env_fingerprint(OPENAI_KEY)
    again, _ = _env_fingerprint(OPENAI_KEY)
    rotated, rotated_state = _env_fingerprint("sk-rotated-key-not-real")
    assert before == again
    assert rotated != before
    # Only the fingerprint changes in the Release: nothing else rolls for a rotated key.
    a = copy.deepcopy(state["librechat-release"])
    b = copy.deepcopy(rotated_state["librechat-release"])
    a["spec"]["forProvider"]["values"]["podAnnotations"].pop(ENV_CHECKSUM_ANNOTATION)
    b["spec"]["forProvider"]["values"]["podAnnotations"].pop(ENV_CHECKSUM_ANNOTATION)
    assert a == b


def test_the_fingerprint_is_keyed_not_a_plain_hash() -> None:
    """Without the platform's seed, the annotation cannot be used to test guesses of a key."""
    fingerprint, state = _env_fingerprint(OPENAI_KEY)
    other_seed, _ = _env_fingerprint(OPENAI_KEY, seed="another-seed-0123456789abcdef0123456789")
    assert fingerprint != other_seed
    env = {k: base64.b64decode(v).decode() for k, v in state["librechat-env"]["data"].items()}
    plain = "\x00".join(f"{k}={env[k]}" for k in sorted(env)).encode()
    assert fingerprint != hashlib.sha256(plain).hexdigest()
    assert all(value not in yaml.safe_dump(state["librechat-release"]) for value in env.values() if len(value) > 8)


# 5. Firecrawl ----------------------------------------------------------------------------------------------------


def _firecrawl_state(function_input: dict[str, Any] | None = None) -> tuple[Any, dict[str, dict[str, Any]]]:
    spec = basic_spec() | {"firecrawl": {"enabled": True}}
    xr = namespaced_xr(spec)
    base = {"apiVersion": "aiworkspace.fn.crossplane.io/v1alpha1", "kind": "Input"}
    rsp = run(full_request(xr, function_input={**base, **(function_input or {})}))
    return rsp, desired(rsp)


def test_firecrawl_api_outlives_its_own_drain() -> None:
    """IS_KUBERNETES=true: the API sleeps 60 s on SIGTERM (apps/api/src/index.ts at 61e38dc8)."""
    _, state = _firecrawl_state()
    pod = _deployment(state, "firecrawl-api-deployment")["spec"]["template"]["spec"]
    assert {"name": "IS_KUBERNETES", "value": "true"} in pod["containers"][0]["env"]
    assert pod["terminationGracePeriodSeconds"] > 60


def test_platform_pins_firecrawl_images_by_digest() -> None:
    digest = "sha256:" + "a" * 64
    images = {
        "firecrawl": f"registry.example.com/mirror/firecrawl@{digest}",
        "firecrawlPlaywright": f"registry.example.com/mirror/playwright-service@{digest}",
        "firecrawlPostgres": f"registry.example.com/mirror/nuq-postgres:17@{digest}",
    }
    rsp, state = _firecrawl_state({"images": images})
    assert fatal(rsp) is None, results(rsp)
    used = {
        container["image"]
        for key, body in state.items()
        if key.startswith("firecrawl")
        and body["kind"] == "Object"
        and body["spec"]["forProvider"]["manifest"]["kind"] == "Deployment"
        for container in body["spec"]["forProvider"]["manifest"]["spec"]["template"]["spec"]["containers"]
    }
    assert not any(image.endswith(":latest") for image in used)
    assert set(images.values()) <= used


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ({"librechat": "example.com/librechat:v1"}, "unknown image 'librechat'"),
        ({"firecrawl": "not a reference"}, "images.firecrawl"),
    ],
)
def test_bad_image_overrides_are_fatal(images: dict[str, str], message: str) -> None:
    rsp, _ = _firecrawl_state({"images": images})
    assert message in (fatal(rsp) or ""), results(rsp)


# 6. Web search only with something behind it ---------------------------------------------------------------------


def test_web_search_hidden_without_a_search_provider() -> None:
    _, state = example_state(EXAMPLES / "basic-namespaced")
    assert _librechat_config(state)["interface"]["webSearch"] is False


def test_web_search_shown_with_searxng() -> None:
    _, state = example_state(EXAMPLES / "plan-mixed-namespaced")
    config = _librechat_config(state)
    assert config["webSearch"]["searchProvider"] == "searxng"
    assert config["interface"]["webSearch"] is True


def test_web_search_shown_when_the_team_asks() -> None:
    spec = basic_spec()
    spec["librechat"]["interface"] = {"webSearch": True}
    xr = namespaced_xr(spec)
    state = full_state(xr, [secret("openai", {"api-key": OPENAI_KEY})])
    assert _librechat_config(state)["interface"]["webSearch"] is True
