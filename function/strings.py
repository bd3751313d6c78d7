"""The type of every string a team writes, named by where its value lands (its sink).

A team's string is safe or not by where it ends up: a Kubernetes name, a label, an Ingress annotation that
nginx reads as configuration, a model id passed to a server's argv, a URL LibreChat calls, text LibreChat shows.
Each type here is an allow-list (a pattern and a length) written once: the XRD's schema carries it to the API
server (OpenAPI `pattern`, `maxLength`, or a CEL rule), and the function applies the same pattern or rule
through pydantic. A field of the spec declares one of these types; a reviewer asks one question per field: is
this the right sink?

Patterns use the subset of regular expressions that RE2 (the API server's CEL and OpenAPI patterns) and
Python's `re` read alike. Nothing a pattern admits can become program text: no `$`, `{`, quotes, `;`,
whitespace or control characters, and no leading `-` (an argv option). The one free-text type (LibreChat's
display text) refuses `${`, `{{`, `$(` and control characters instead.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import GetCoreSchemaHandler, StringConstraints
from pydantic_core import core_schema


@dataclass(frozen=True)
class TextRule:
    """A rule on one string that a pattern cannot say: CEL for admission, the same check in Python."""

    cel: str
    message: str
    check: Callable[[str], bool]  # True when the value passes

    def schema(self) -> dict[str, str]:
        return {"rule": self.cel, "message": self.message}


def refuse(regex: str, message: str) -> TextRule:
    """A rule refusing any value in which `regex` finds a match (CEL `matches` and `re.search` alike)."""
    compiled = re.compile(regex)
    return TextRule(cel=f"!self.matches('{cel_quote(regex)}')", message=message, check=lambda v: not compiled.search(v))


def cel_quote(regex: str) -> str:
    """A regular expression as the body of a single-quoted CEL string (backslashes doubled)."""
    if "'" in regex:
        raise ValueError(f"{regex!r}: a CEL string here cannot hold a single quote")
    return regex.replace("\\", "\\\\")


class Checked:
    """Applies TextRules in the function (an after-validator) and writes them into the XRD (CEL rules)."""

    def __init__(self, *rules: TextRule, extra: Callable[[str], str] | None = None) -> None:
        self.rules = rules
        self.extra = extra  # a further check in Python only, for what no regular expression can see

    def _validate(self, value: str) -> str:
        for rule in self.rules:
            if not rule.check(value):
                raise ValueError(rule.message)
        return self.extra(value) if self.extra else value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: Any) -> dict[str, Any]:
        out: dict[str, Any] = handler(schema)
        out.setdefault("x-kubernetes-validations", []).extend(rule.schema() for rule in self.rules)
        return out


# What each pattern admits, in words: the function's message when a value does not match (the API server's own
# message quotes the pattern).
PATTERN_HINTS: dict[str, str] = {}


def typed(pattern: str, max_length: int, hint: str, min_length: int = 1) -> Any:
    """A string type: a whole-value pattern, its length bounds and what it admits in words."""
    PATTERN_HINTS[pattern] = hint
    return Annotated[str, StringConstraints(pattern=pattern, min_length=min_length, max_length=max_length)]


# --- Kubernetes -----------------------------------------------------------------------------------------
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# A Kubernetes object's name (DNS-1123 subdomain): Secrets, StorageClasses, IngressClasses, (Cluster)Issuers,
# provider configs. Charts print some of them unquoted; nothing this admits can break out of a YAML scalar.
KubernetesName = typed(
    DNS_SUBDOMAIN,
    253,
    "a Kubernetes name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
)
# A Kubernetes name the LibreChat chart prints unquoted (ingress.className as ingressClassName, a TLS secretName):
# a name that starts with a letter and is none of the words YAML reads as a boolean or null, so that it stays a
# string in the chart's output (an IngressClass named "true" or "0" would reach the API server as a boolean or
# a number).
UNQUOTED_NAME = r"^[a-z]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
YAML_WORDS = ("y", "n", "yes", "no", "on", "off", "true", "false", "null")
UnquotedName = Annotated[
    str,
    StringConstraints(pattern=UNQUOTED_NAME, max_length=253),
    Checked(
        refuse(
            "^(" + "|".join(YAML_WORDS) + ")$",
            "must not be a word YAML reads as a boolean or null (the chart prints it unquoted); choose another name",
        )
    ),
]
PATTERN_HINTS[UNQUOTED_NAME] = (
    "a Kubernetes name starting with a letter: lower-case letters, digits, '-' and '.' (the chart prints it unquoted)"
)
# A namespace's name (DNS-1123 label).
NamespaceName = typed(
    DNS_LABEL, 63, "a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit"
)
# A placement's name: what the platform calls a workload cluster and its regions in the Composition's input (a DNS
# label); it lands only in the function's lookup and in an annotation of what the workspace composes.
PlacementName = typed(
    DNS_LABEL, 63, "a placement name: lower-case letters, digits and '-', starting and ending with a letter or digit"
)
# Both are DNS labels, and a hint is kept per pattern: one that names either.
PATTERN_HINTS[DNS_LABEL] = (
    "a DNS label (a namespace's or a placement's name): lower-case letters, digits and '-', starting and ending with "
    "a letter or digit"
)
SECRET_KEY = r"^[-._a-zA-Z0-9]+$"
# A key of a Secret's data.
SecretKey = typed(SECRET_KEY, 253, "a Secret key: letters, digits, '-', '_' and '.'")
# A label or annotation key: an optional DNS prefix and '/', then a name of up to 63 characters.
LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LabelKey = typed(
    LABEL_KEY,
    253,
    "a label or annotation key: an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'",
)
# What a map keyed by one of these types says at admission when a key does not fit (xrds turns a key type into a
# CEL rule over the map's keys).
KEY_MESSAGES = {
    LABEL_KEY: "every key must be a Kubernetes label or annotation key (an optional DNS prefix and '/', then up to "
    "63 letters, digits, '-', '_' or '.'), e.g. example.com/name",
}
LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
LabelValue = typed(
    LABEL_VALUE,
    63,
    "a label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    min_length=0,
)
# An annotation value the ingress controller reads as configuration (nginx: a size, a timeout, a list): words,
# numbers, units and URL-like values, never a space, a quote, ';', braces, '$' or a line break that would end
# nginx's directive or add to it (a value nginx refuses stops the shared controller's reloads for every tenant).
ANNOTATION_VALUE = r"^[A-Za-z0-9*]([-A-Za-z0-9._:/=,*+@]*[A-Za-z0-9*/])?$"
AnnotationValue = typed(
    ANNOTATION_VALUE,
    256,
    "an annotation value of letters, digits and '-._:/=,*+@' (no spaces, quotes, ';', braces or '$'), e.g. 64m",
    min_length=0,
)
# An extended resource a container requests, e.g. nvidia.com/gpu: a domain with a dot, '/', a name.
EXTENDED_RESOURCE = (
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?([.][a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}"
    r"[A-Za-z0-9])?$"
)
PATTERN_HINTS[EXTENDED_RESOURCE] = "an extended resource name such as nvidia.com/gpu: a DNS domain, '/', a name"
ExtendedResourceName = Annotated[
    str,
    StringConstraints(pattern=EXTENDED_RESOURCE, min_length=3, max_length=253),
    Checked(
        refuse(
            r"^([^/]*[.])?kubernetes[.]io/",
            "must not be in the kubernetes.io domain, which Kubernetes keeps for its own resources; name the "
            "device plugin's resource, e.g. nvidia.com/gpu",
        )
    ),
]

# --- DNS names and URLs ---------------------------------------------------------------------------------
_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
# A public DNS name: two labels or more, each at most 63 characters, the last starting with a letter (a
# top-level domain), so never an IP address (which an Ingress rule's host may not be). Punycode (xn--) is a
# DNS name like any other; percent-encoding and non-ASCII letters are not.
HOSTNAME = rf"^({_LABEL}\.)+[a-z]([-a-z0-9]{{0,61}}[a-z0-9])?$"
# Names that only resolve inside a cluster or on the node: a Service's (svc, cluster.local), the API server's,
# mDNS (local) and internal or metadata names. A team's public name is never one of these.
IN_CLUSTER_SUFFIX = r"(^|[.])(svc|local|internal|localhost|cluster[.]local|svc[.]cluster[.]local)$"
_NOT_IN_CLUSTER = refuse(
    IN_CLUSTER_SUFFIX,
    "must be a public DNS name, not a name that resolves only inside the cluster or on the node (.svc, "
    ".cluster.local, .local, .internal, .localhost)",
)
PATTERN_HINTS[HOSTNAME] = (
    "a DNS name of two labels or more such as chat.example.com (lower case, each label at most 63 characters, "
    "the last starting with a letter)"
)
PublicHostname = Annotated[str, StringConstraints(pattern=HOSTNAME, max_length=253), Checked(_NOT_IN_CLUSTER)]
# An email domain, e.g. example.com (LibreChat compares the part after '@' with it).
EmailDomain = Annotated[str, StringConstraints(pattern=HOSTNAME, max_length=253)]


# Wildcard DNS services whose names resolve to the IP address written in them (169.254.169.254.nip.io).
WILDCARD_DNS = ("nip.io", "sslip.io", "xip.io", "traefik.me", "localtest.me", "lvh.me", "localhost.direct")
# A host of two labels or more whose last is a top-level domain's shape (letters, or punycode): a pod's resolver
# tries a name with few dots inside the cluster first (ndots:5), so a last label like a namespace's (team-b, x1)
# would name another namespace's Service (keycloak.team-b is keycloak.team-b.svc.cluster.local).
_HOST = r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})"
# A URL a team gives: an http(s) or ws(s) scheme, a host as above (lower case ASCII letters, digits, '-' and '.';
# no user info, no percent-encoding, no IP address, no non-ASCII), an optional port, and a path, query and
# fragment of the characters RFC 3986 allows but '$', which nothing a team writes needs.
URL = rf"^(https?|wss?)://{_HOST}(:[0-9]{{1,5}})?([/?#][-A-Za-z0-9._~:/?#@!&'()*+,;=%\[\]]*)?$"
# The host of such a URL, for the rules below (CEL sees the whole URL).
_URL_HOST = r"^[a-z]+://"
# URLs that name the node, the cloud's metadata service or a private range in the forms a regular expression can
# see: loopback, link-local, private, shared and unspecified IPv4 ranges, numeric hosts (decimal, octal, hex),
# local and metadata names, a single-label name (resolved through the pod's search path, in the cluster), the
# API server's names, hosts that embed an IP address (nip.io style) and wildcard DNS services.
UNSAFE_URL = (
    _URL_HOST + r"("
    r"(localhost|metadata|instance-data|[^/?#:]*[.](internal|localhost))[.]?([:/?#]|$)"
    r"|(127[.][0-9.]*|0|0[.][0-9.]*|0[0-9x][0-9a-fx.]*|10[.][0-9.]*|169[.]254[.][0-9.]*|192[.]168[.][0-9.]*"
    r"|172[.](1[6-9]|2[0-9]|3[01])[.][0-9.]*|100[.](6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])[.][0-9.]*|[0-9]+)"
    r"([:/?#]|$)"
    r"|[^./?#:]+([:/?#]|$)"
    r"|kubernetes([.]default([.][^/?#:]*)?)?([:/?#]|$)"
    r"|[^/?#:]*([0-9]{1,3}[.-]){3}[0-9]{1,3}[.-][^/?#:]*[a-z][^/?#:]*([:/?#]|$)"
    r"|([^/?#:]*[.])?(" + "|".join(re.escape(d).replace("\\.", "[.]") for d in WILDCARD_DNS) + r")([:/?#]|$)"
    r")"
)
UNSAFE_URL_MESSAGE = (
    "must name a public host: not the node, a cloud metadata service, a private address or range, an IP address "
    "written into a name (nip.io style), a single-label name or the Kubernetes API; an in-cluster Service of the "
    "workspace's own namespace is named <service>.<namespace>.svc"
)


def url_host(url: str) -> str:
    """The lower-cased host of a URL, '' when it has none."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def unsafe_address(url: str) -> str | None:
    """Why a URL's host must not be called, in forms no regular expression sees: an IP literal that is not a
    public address (IPv4-mapped IPv6 included). None for DNS names and public addresses."""
    host = url_host(url)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global:
        return f"points at {address}, which is not a public address (loopback, link-local, metadata or private)"
    return None


def _public_address(value: str) -> str:
    reason = unsafe_address(value)
    if reason:
        raise ValueError(f"{value!r} {reason}; name a public host or an in-cluster Service by DNS name")
    return value


def public_url(max_length: int = 2048, scheme: str = r"(https?|wss?)") -> Any:
    """A URL LibreChat or a workload calls: the URL pattern (with the schemes given), then UNSAFE_URL at both
    layers, then the address itself in the function."""
    pattern = URL.replace("(https?|wss?)", scheme, 1)
    PATTERN_HINTS[pattern] = (
        f"a URL with the scheme {scheme.strip('()').replace('?', '').replace('|', ' or ')}[s], a host of two labels "
        "or more in lower-case letters, digits, '-' and '.' ending in a top-level domain's letters (no IP address, "
        "user info, '%' or non-ASCII; punycode is fine), an optional port and a path without '$'"
    )
    return Annotated[
        str,
        StringConstraints(pattern=pattern, min_length=1, max_length=max_length),
        Checked(refuse(UNSAFE_URL, UNSAFE_URL_MESSAGE), extra=_public_address),
    ]


PublicURL = public_url()
HttpsURL = public_url(scheme="(https)")
HttpURL = public_url(scheme="(https?)")

# --- Values programs read -------------------------------------------------------------------------------
# A model id as model servers and APIs name models: gpt-4o, claude-3-5-sonnet-20241022, llama3.2:3b,
# Qwen/Qwen2.5-7B-Instruct, hf.co/org/repo:Q4_K_M. Path segments start with a letter or digit, so it is never
# an argv option ('-'), a path upwards ('..') or absolute; no ',' (LibreChat's model lists are comma-joined),
# no '$' (the kubelet expands $(VAR) in args and env).
MODEL_ID = r"^[A-Za-z0-9][-A-Za-z0-9._:+@]*(/[A-Za-z0-9][-A-Za-z0-9._:+@]*)*$"
ModelId = typed(
    MODEL_ID,
    256,
    "a model id such as gpt-4o, llama3.2:3b or Qwen/Qwen2.5-7B-Instruct: letters, digits and '-._:+@', path "
    "segments separated by '/' and starting with a letter or digit",
)
# A language as BCP 47 names it (en, en-US, pt_BR, zh-Hans), or auto.
LANGUAGE = r"^(auto|[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3})$"
LanguageTag = typed(LANGUAGE, 35, "a language tag such as en, en-US or pt_BR, or auto")
# The spoken language of speech-to-text as LibreChat passes it on (v0.8.8-rc1 api/server/services/Files/Audio/
# STTService.js, getValidatedLanguageCode): ISO 639-1, with a region at most; it drops anything else with a warning
# and the language is detected, so pt_BR, zh-Hans or auto would silently mean "detect".
STT_LANGUAGE = r"^[a-z]{2}(-[A-Za-z]{2})?$"
SttLanguage = typed(
    STT_LANGUAGE, 16, "an ISO 639-1 language such as en, or with a region such as en-US (unset: detected)"
)
# An OAuth client id: what identity providers issue (Google's 123-abc.apps.googleusercontent.com, GitHub's
# Iv1.abc, a GUID, a Keycloak client name, Zitadel's 123@project).
OAUTH_CLIENT_ID = r"^[A-Za-z0-9][-A-Za-z0-9._@:/+=~]*$"
OAuthClientId = typed(
    OAUTH_CLIENT_ID, 256, "an OAuth client id: letters, digits and '-._@:/+=~', starting with a letter or digit"
)
# OAuth scopes, space-separated (openid profile email, api://app/read).
OAUTH_SCOPE = r"^[A-Za-z0-9][-A-Za-z0-9._:/]*( [A-Za-z0-9][-A-Za-z0-9._:/]*)*$"
OAuthScope = typed(OAUTH_SCOPE, 512, "OAuth scopes separated by single spaces, e.g. openid profile email")
# An MCP server's name as LibreChat shows it and keys its config by.
MCPServerName = typed(
    r"^[A-Za-z0-9][-A-Za-z0-9_]*$", 63, "a name of letters, digits, '-' and '_', starting with a letter or digit"
)
# An HTTP header name (an RFC 9110 token, as far as anyone uses it); it also becomes part of an env var name.
HEADER_NAME = r"^[A-Za-z0-9][-A-Za-z0-9]*$"
HeaderName = typed(HEADER_NAME, 64, "an HTTP header name: letters, digits and '-', e.g. Authorization")

# --- Text LibreChat shows -------------------------------------------------------------------------------
# LibreChat replaces ${NAME} in its config with its environment (API keys, generated secrets), {{...}} with the
# signed-in user's fields, and the kubelet replaces $(NAME) in env values; control characters would end a header
# or a line. Text that holds none of them is shown as written.
PLACEHOLDER = r"[$][{]|[{][{]|[$][(]|[\x00-\x1f\x7f]"
TEXT_MESSAGE = (
    "must not contain '${', '{{', '$(' or control characters (line breaks, tabs): LibreChat replaces ${NAME} "
    "with its environment's secrets and {{...}} with a user's fields, and the kubelet expands $(NAME); write the "
    "text without them"
)
_TEXT = refuse(PLACEHOLDER, TEXT_MESSAGE)


def free_text(max_length: int, min_length: int = 0) -> Any:
    """Text a team writes for people to read, which LibreChat must treat as data."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), Checked(_TEXT)]


# The welcome message's one placeholder, which LibreChat fills with the user's own name; any other '{{' is refused.
WELCOME_PLACEHOLDER = "{{user.name}}"
_OTHER_PLACEHOLDER = (
    r"[$][{]|[$][(]|[\x00-\x1f\x7f]|[{][{]([^u]|$|u([^s]|$|s([^e]|$|e([^r]|$|r([^.]|$|[.]([^n]|$|n([^a]|$|"
    r"a([^m]|$|m([^e]|$|e([^}]|$|[}]([^}]|$)))))))))))"
)
_WELCOME = refuse(
    _OTHER_PLACEHOLDER,
    "must not contain '${', '$(', control characters or any '{{' placeholder but {{user.name}}: LibreChat replaces "
    "${NAME} with its environment's secrets; write the text without them",
)
WelcomeText = Annotated[str, StringConstraints(max_length=1000), Checked(_WELCOME)]


def is_free_text(node: dict[str, Any]) -> bool:
    """Whether a schema node is one of the free-text types (its rule refuses placeholders and control codes)."""
    rules = {rule.get("rule") for rule in node.get("x-kubernetes-validations", [])}
    return _TEXT.cel in rules or _WELCOME.cel in rules


# --- Schedules -------------------------------------------------------------------------------------------------
def _cron_field(number: str, names: tuple[str, ...] = (), question: bool = False) -> str:
    value = "|".join((number, *names, *(n.lower() for n in names)))
    item = rf"(\*|({value})(-({value}))?)(/[1-9][0-9]?)?"
    return rf"({item}(,{item})*{'|[?]' if question else ''})"


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# A five-field cron schedule as a CronJob's controller reads it (robfig/cron's standard parser): minute, hour, day
# of month, month, day of week, each a list of values, ranges and steps within its range; or a macro (@daily).
# The minute is one number, so a schedule runs at most once an hour: every run is a whole dump, kept retentionDays.
CRON = (
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|"
    + " ".join(
        (
            r"([0-5]?[0-9])",
            _cron_field(r"[01]?[0-9]|2[0-3]"),
            _cron_field(r"0?[1-9]|[12][0-9]|3[01]", question=True),
            _cron_field(r"0?[1-9]|1[0-2]", _MONTHS),
            _cron_field(r"[0-6]", _DAYS, question=True),  # robfig/cron v3.0.1 refuses 7 for Sunday
        )
    )
    + r")$"
)


def _ranges_ascend(schedule: str) -> str:
    """Every numeric range of a schedule runs upwards (the controller refuses 30-10), and the schedule names a day
    that exists (the controller takes '0 3 30 2 *' and never runs it)."""
    for start, end in re.findall(r"(?<![A-Za-z])([0-9]+)-([0-9]+)", schedule):
        if int(start) > int(end):
            raise ValueError(f"{schedule!r}: the range {start}-{end} runs backwards; write it {end}-{start}")
    if not schedule.startswith("@") and not _names_a_day(*schedule.split()[2:5]):
        raise ValueError(f"{schedule!r}: no month has that day, so it would never run; name a day that exists")
    return schedule


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February's 29th exists in leap years


def _cron_values(field: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The numbers a cron field (already matched by CRON) selects: at most high - low + 1 of them."""
    values: set[int] = set()
    for item in field.split(","):
        part, _, step = item.partition("/")
        if part in ("*", "?"):
            first, last = low, high
        else:
            ends = [names.index(e.upper()) + low if e.upper() in names else int(e) for e in part.split("-")]
            first, last = ends[0], ends[-1] if len(ends) > 1 or step else ends[0]
            if step and len(ends) == 1:
                last = high
        values.update(range(first, last + 1, int(step or 1)))
    return values


def _cron_star(field: str) -> bool:
    """Whether a field is a star to robfig/cron's dayMatches: it has an item '*' or '?' (without a step > 1). An item
    '*/2' counts as a restriction here, which refuses nothing that runs: as days it holds the 1st, which every month
    has; as weekdays it leaves the check at "runs"."""
    return any(i.partition("/")[0] in ("*", "?") and int(i.partition("/")[2] or 1) <= 1 for i in field.split(","))


def _names_a_day(day: str, month: str, weekday: str) -> bool:
    """robfig/cron v3 (spec.go, dayMatches): with day or weekday a star, a day must match both; else either. A
    weekday matches every week, so only a day of month under a star weekday can name no day at all."""
    if _cron_star(day) or not _cron_star(weekday):
        return True
    months = _cron_values(month, 1, 12, _MONTHS)
    return any(d <= _MONTH_DAYS[m - 1] for m in months for d in _cron_values(day, 1, 31))


class _Ascending:
    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_ranges_ascend, handler(source))


CronSchedule = Annotated[str, StringConstraints(pattern=CRON, max_length=128), _Ascending()]
PATTERN_HINTS[CRON] = (
    "a cron schedule of five fields within their ranges (minute: one number 0-59, so at most once an hour; hour "
    "0-23, day 1-31, month 1-12 or JAN-DEC, weekday 0-6 or SUN-SAT), e.g. '0 3 * * *', or a macro such as @daily"
)


# --- Networks ---------------------------------------------------------------------------------------------
def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a CIDR (e.g. 10.20.0.0/16)") from None
    return value


class _NetworkCheck:
    """The address check of a CIDR, which no pattern can make (octets up to 255, prefix lengths)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_network, handler(source))


# An IPv4 or IPv6 network in CIDR notation: the pattern at admission, the address in the function.
CIDR_PATTERN = r"^([0-9]{1,3}([.][0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)/[0-9]{1,3}$"
CIDR = Annotated[str, StringConstraints(max_length=43, pattern=CIDR_PATTERN), _NetworkCheck()]
PATTERN_HINTS[CIDR_PATTERN] = "a network in CIDR notation, e.g. 10.20.0.0/16 or fd00::/8"

# --- Cloud coordinates (each also within what the platform allows: input.Tenancy) -----------------------
# AWS: a region (eu-west-1, us-gov-west-1), an RDS instance class, VPC, subnet, security group and DB subnet
# group, an IAM role for IRSA, and an S3 bucket name.
AwsRegion = typed(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", 32, "an AWS region such as eu-west-1")
RdsInstanceClass = typed(r"^db[.][a-z0-9]+[.][a-z0-9]+$", 64, "an RDS instance class such as db.t4g.medium")
AwsVpcId = typed(r"^vpc-[0-9a-f]{8,17}$", 21, "a VPC id such as vpc-0a1b2c3d4e5f60000")
AwsSubnetId = typed(r"^subnet-[0-9a-f]{8,17}$", 24, "a subnet id such as subnet-0a1b2c3d4e5f60001")
AwsSecurityGroupId = typed(r"^sg-[0-9a-f]{8,17}$", 20, "a security group id such as sg-0a1b2c3d4e5f60000")
AwsDbSubnetGroupName = typed(
    r"^[a-zA-Z0-9][-a-zA-Z0-9_.]*$", 255, "a DB subnet group name: letters, digits, '-', '_' and '.'"
)
# No path: a policy is attached to a role by its name alone, so role/team-a.x/team-b would be team-b's role.
AWS_ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9][-A-Za-z0-9_+=,.@]*$"
AwsRoleArn = typed(AWS_ROLE_ARN, 2048, "an IAM role ARN such as arn:aws:iam::123456789012:role/team-a-librechat")
# An S3 bucket name (also of S3-compatible stores): lower-case letters, digits, '.', '-'.
S3_BUCKET = r"^[a-z0-9][-a-z0-9.]{1,61}[a-z0-9]$"
S3BucketName = typed(S3_BUCKET, 63, "a bucket name: 3 to 63 lower-case letters, digits, '-' and '.'", min_length=3)
# The region an S3-compatible endpoint expects (us-east-1, auto, garage).
S3Region = typed(r"^[a-z0-9]([-a-z0-9_]{0,30}[a-z0-9])?$", 32, "a region name such as us-east-1 or auto")
# GCP: a region (europe-west1), a bucket location (EU, europe-west1, NAM4), a project id, a Cloud SQL tier and a
# VPC network's self link.
GcpRegion = typed(r"^[a-z]+-[a-z]+[0-9]+$", 32, "a GCP region such as europe-west1")
GcpLocation = typed(r"^[A-Za-z][-A-Za-z0-9]*[A-Za-z0-9]$", 32, "a bucket location such as EU or europe-west1")
GCP_PROJECT = r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$"
GcpProject = typed(
    GCP_PROJECT, 30, "a GCP project id: 6 to 30 lower-case letters, digits and '-', starting with a letter"
)
GcpSqlTier = typed(r"^db-[a-z0-9]+(-[a-z0-9]+)*$", 64, "a Cloud SQL tier such as db-custom-1-3840")
GcpNetwork = typed(
    r"^projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/global/networks/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
    256,
    "a network self link: projects/<project>/global/networks/<network>",
)
# Azure: a location (westeurope), a resource group, a flexible server SKU, a delegated subnet and a private DNS
# zone by resource id.
# Azure OpenAI for speech (spec.azureOpenAI). LibreChat (v0.8.8-rc1 packages/api/src/utils/azure.ts,
# genAzureEndpoint) calls https://<instance>.openai.azure.com/openai/deployments/<deployment>/audio/...
# ?api-version=<version>, and takes an instance name holding ".azure.com" as the whole host: no dot is admitted,
# so the key is only ever sent to Azure. The deployment lands in the URL's path, the version in its query.
AzureOpenAIInstance = typed(
    r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$",
    64,
    "an Azure OpenAI resource name such as team-a-openai: lowercase letters, digits and '-'",
)
AzureDeploymentName = typed(
    r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$",
    64,
    "an Azure OpenAI deployment name such as whisper: letters, digits, '-' and '_'",
)
AzureApiVersion = typed(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$", 32, "an API version such as 2024-06-01")
# An ElevenLabs voice id: LibreChat (TTSService.js at v0.8.8-rc1) puts it in the URL's path,
# https://api.elevenlabs.io/v1/text-to-speech/<voice>.
ElevenLabsVoiceId = typed(r"^[A-Za-z0-9]{16,32}$", 32, "an ElevenLabs voice id such as 21m00Tcm4TlvDq8ikWAM")
AzureLocation = typed(r"^[a-z][a-z0-9]*$", 32, "an Azure region such as westeurope")
AZURE_RESOURCE_GROUP = r"^[A-Za-z0-9_()]([-A-Za-z0-9_.()]*[-A-Za-z0-9_()])?$"
AzureResourceGroup = typed(
    AZURE_RESOURCE_GROUP, 90, "a resource group name: letters, digits, '-', '_', '.', '(' and ')', not ending in '.'"
)
AzureSku = typed(r"^(B|GP|MO)_[A-Za-z0-9]+(_[A-Za-z0-9]+)*$", 64, "a flexible server SKU such as GP_Standard_D2s_v3")
_AZURE_PREFIX = r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-A-Za-z0-9_.()]*[-A-Za-z0-9_()]/providers/"
AzureSubnetId = typed(
    _AZURE_PREFIX + r"Microsoft[.]Network/virtualNetworks/[-A-Za-z0-9_.]+/subnets/[-A-Za-z0-9_.]+$",
    1024,
    "a subnet's resource id: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/"
    "virtualNetworks/<network>/subnets/<subnet>",
)
AzurePrivateDnsZoneId = typed(
    _AZURE_PREFIX + r"Microsoft[.]Network/privateDnsZones/[-a-z0-9.]+$",
    1024,
    "a private DNS zone's resource id: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/"
    "privateDnsZones/<zone>",
)
