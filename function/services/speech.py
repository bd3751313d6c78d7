"""Speech as LibreChat calls it: per direction, the provider the spec selects (spec.librechat.stt and tts).

Each provider is one entry of STT or TTS: a function from the draft plan to the Speech LibreChat is given (None
while the provider is not set up: admission and the spec's rules refuse that). A provider whose key LibreChat
copies from the team's Secret names it in COPIED_KEYS; OpenAI's key is the workspace's own OPENAI_API_KEY and
Speaches' is generated. A new provider is a new entry here, and its block in librechat.py's speech config.
"""

from __future__ import annotations

from collections.abc import Callable

from function.plan import AzureSpeech, Draft, EnvFromSecret, Part, Speech
from function.services import speaches
from function.spec import AIWorkspaceSpec, SpeechImplementation

AZURE_SPEECH_KEY = "AZURE_OPENAI_SPEECH_API_KEY"  # LibreChat's env names for the speech keys it copies
ELEVENLABS_KEY = "ELEVENLABS_API_KEY"

SpeechOf = Callable[[Draft], Speech | None]


def _openai_stt(draft: Draft) -> Speech | None:
    openai = draft.spec.openai
    if not openai.api_key_secret_ref:
        return None
    # LibreChat reads the workspace's OpenAI key for it: the key is copied once, as OPENAI_API_KEY.
    return Speech(SpeechImplementation.OPENAI, "OPENAI_API_KEY", None, None, openai.stt.model)


def _openai_tts(draft: Draft) -> Speech | None:
    openai = draft.spec.openai
    if not openai.api_key_secret_ref:
        return None
    voices = (openai.tts.voice.value,)
    return Speech(SpeechImplementation.OPENAI, "OPENAI_API_KEY", None, None, openai.tts.model, voices)


def _azure_stt(draft: Draft) -> Speech | None:
    azure = draft.spec.azure_openai
    if not (azure.instance_name and azure.api_key_secret_ref):
        return None
    deployment = AzureSpeech(azure.instance_name, azure.stt.deployment_name, azure.api_version)
    return Speech(SpeechImplementation.AZURE_OPENAI, AZURE_SPEECH_KEY, None, None, "", azure=deployment)


def _azure_tts(draft: Draft) -> Speech | None:
    azure = draft.spec.azure_openai
    if not (azure.instance_name and azure.api_key_secret_ref):
        return None
    deployment = AzureSpeech(azure.instance_name, azure.tts.deployment_name, azure.api_version)
    voices = (azure.tts.voice.value,)
    return Speech(
        SpeechImplementation.AZURE_OPENAI, AZURE_SPEECH_KEY, None, None, azure.tts.model, voices, azure=deployment
    )


def _elevenlabs_tts(draft: Draft) -> Speech | None:
    eleven = draft.spec.eleven_labs
    if not (eleven.api_key_secret_ref and eleven.voices):
        return None
    settings = eleven.voice_settings.model_dump(exclude_none=True) if eleven.voice_settings else {}
    return Speech(
        SpeechImplementation.ELEVENLABS,
        ELEVENLABS_KEY,
        None,
        None,
        eleven.model,
        tuple(eleven.voices),
        voice_settings=tuple(sorted(settings.items())),
    )


STT: dict[SpeechImplementation, SpeechOf] = {
    SpeechImplementation.OPENAI: _openai_stt,
    SpeechImplementation.AZURE_OPENAI: _azure_stt,
    SpeechImplementation.SPEACHES: speaches.stt,
}
TTS: dict[SpeechImplementation, SpeechOf] = {
    SpeechImplementation.OPENAI: _openai_tts,
    SpeechImplementation.AZURE_OPENAI: _azure_tts,
    SpeechImplementation.ELEVENLABS: _elevenlabs_tts,
    SpeechImplementation.SPEACHES: speaches.tts,
}


def _azure_key(spec: AIWorkspaceSpec) -> EnvFromSecret | None:
    ref = spec.azure_openai.api_key_secret_ref
    return EnvFromSecret(AZURE_SPEECH_KEY, ref, "spec.azureOpenAI.apiKeySecretRef") if ref else None


def _elevenlabs_key(spec: AIWorkspaceSpec) -> EnvFromSecret | None:
    ref = spec.eleven_labs.api_key_secret_ref
    return EnvFromSecret(ELEVENLABS_KEY, ref, "spec.elevenLabs.apiKeySecretRef") if ref else None


# The team's keys LibreChat copies for a provider, once however many directions select it.
COPIED_KEYS: dict[SpeechImplementation, Callable[[AIWorkspaceSpec], EnvFromSecret | None]] = {
    SpeechImplementation.AZURE_OPENAI: _azure_key,
    SpeechImplementation.ELEVENLABS: _elevenlabs_key,
}


def plan_part(draft: Draft) -> Part:
    """Each direction from the implementation the spec selects, with the full URL LibreChat calls, and the keys
    LibreChat copies for the providers in use."""
    librechat = draft.spec.librechat
    stt = STT[SpeechImplementation(librechat.stt.implementation.value)](draft) if librechat.stt else None
    tts = TTS[SpeechImplementation(librechat.tts.implementation.value)](draft) if librechat.tts else None
    used = [s.implementation for s in (stt, tts) if s]
    keys = [COPIED_KEYS[i](draft.spec) for i in dict.fromkeys(used) if i in COPIED_KEYS]
    return Part({"stt": stt, "tts": tts}, env_from=tuple(key for key in keys if key))
