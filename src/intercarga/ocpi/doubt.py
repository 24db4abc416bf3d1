"""The in-doubt check: whether a partner already holds a push that may have reached it.

Theory of operation
===================

An outbox row is *in doubt* when an earlier attempt at it may have reached the partner without
its sender learning so: the answer was an error or was lost (a timeout), or the sender died
(SIGKILL, a lost database) after sending and before writing the row down as sent, so the row's
lease ran out with the row still pending. Sending it again blindly would deliver it twice.

OCPI lets the sender ask instead. Every receiver interface a push goes to answers a GET of the
very URL the push went to (2.2.1 and 2.3.0: Locations receiver GET of a Location, EVSE or
Connector; Sessions, Tariffs and Tokens receiver GET of one object), and answers a GET of an
object it lacks with HTTP 404 (status_codes: "when the resource does NOT exist, the server
SHOULD return a HTTP 404"). So, before sending an in-doubt row again, the sender GETs that URL
(:func:`question`) and reads the answer (:func:`judge`):

========================  ==============================================  =================
push                      the partner's answer to the GET                 verdict
========================  ==============================================  =================
PUT / PATCH               its object, ``last_updated`` ≥ the push's       HOLDS: not sent
PUT / PATCH               its object, older (or no ``last_updated``)      LACKS: sent
PUT / PATCH               HTTP 404, or OCPI 2003/2004 (unknown object)    LACKS: sent
DELETE                    HTTP 404, or OCPI 2003/2004                     HOLDS: not sent
DELETE                    its object                                      LACKS: sent
CDR POST                  the CDR, same ``id`` (country_code, party_id)   HOLDS: not sent
CDR POST                  HTTP 404, or OCPI 2003/2004                     LACKS: sent
CDR POST                  another object                                  UNANSWERABLE: sent
CDR POST, no URL known    (not asked)                                     sent again
any                       a refusal (other HTTP 4xx, OCPI 2xxx)           UNANSWERABLE: sent
any                       no answer, HTTP 5xx, 401, OCPI 3xxx/4xxx        (no verdict) retried
========================  ==============================================  =================

A partner whose copy is at least as new as the push holds it or something that supersedes it
(one object's rows reach a partner in the order they were stored, and a newer row of an object
replaces its older pending ones): it needs nothing. This takes two versions of one object to
differ in ``last_updated`` (OCPI's own premise: a Sender's ``date_from`` rests on it), to the
millisecond an OCPI DateTime carries. A PATCH carries ``last_updated`` (required by the spec);
a copy of the very same moment holds a PATCH only if it has every field the PATCH set, as set.

A POST is asked about only where its URL can be known. A CDR is POSTed to the eMSP's CDRs
endpoint, and the URL to GET it back is the one the eMSP returns in the ``Location`` header of
its answer to that POST ("OCPI does not define a specific structure for this URL"): when that
answer never arrived, the CPO was not told. But the eMSP's answers to this CPO party's earlier
CDR POSTs show how it names its CDRs: the sender keeps the ``Location`` of the latest one it was
answered, and when that URL holds the earlier CDR's ``id`` exactly once, as one whole path
segment (``https://emsp/ocpi/2.2.1/cdrs/NL/CPO/ABC123``), the in-doubt CDR's URL is that URL
with the id replaced by its own (:func:`cdr_url`). A CDR is never changed once sent, so the
answer is read by identity, not by moment: the eMSP holds the CDR only when it answers with a
CDR of the very same ``id`` (and
``country_code`` and ``party_id`` where both carry them); anything else found there proves
nothing and the CDR is sent. An eMSP whose URLs follow no such pattern (a date in them, say)
answers 404 at the URL made up, and is sent the CDR again: a repeat, never a loss.

What stays at least once: a CDR in doubt before the eMSP answered any CDR POST of its CPO party
(nothing learned yet), or whose eMSP names CDRs by ids of its own (the ``Location`` lacks ours);
a command result (POSTed to a response URL) and a hub's forwarded POST, which no interface lets
the sender GET back. Such rows are sent again (no URL to ask): a CDR is billing, and losing one
is worse than sending it twice; the receiver recognises the repeat by the CDR's ``id`` (unique
per CPO party). A receiver that cannot answer the GET (UNANSWERABLE) is likewise sent the push
again: at least once, for that partner.

Pure: values in, a verdict out. It never sends anything (:mod:`.outbox` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from intercarga.ocpi.envelope import StatusCode
from intercarga.ocpi.models import parse_datetime

__all__ = ["Answer", "Verdict", "cdr_url", "judge", "question"]


class Verdict(StrEnum):
    HOLDS = "HOLDS"  # the partner holds the push (or something newer): not sent again
    LACKS = "LACKS"  # the partner lacks it: sent
    UNANSWERABLE = "UNANSWERABLE"  # the partner cannot tell: sent (at least once)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the partner answered to the GET: HTTP status, OCPI status code, ``data``."""

    http_status: int
    status_code: int | None
    data: Any = None


_UNKNOWN_OBJECT = frozenset({StatusCode.UNKNOWN_LOCATION, StatusCode.UNKNOWN_TOKEN})


def question(method: str, body: Any) -> bool:
    """Whether a push of ``method`` with ``body`` can be asked about with a GET of its URL.

    PUT and PATCH when the body carries ``last_updated`` (to compare with), DELETE always; never
    a POST (its URL is not the one it went to: :func:`cdr_url`)."""
    if method == "DELETE":
        return True
    if method in ("PUT", "PATCH"):
        return isinstance(body, dict) and "last_updated" in body
    return False


def cdr_url(location: str, located_id: str, cdr_id: str) -> str | None:
    """The URL of CDR ``cdr_id`` at an eMSP that named CDR ``located_id`` ``location``; None
    when ``location`` does not tell (``located_id`` is not in it exactly once, as one whole
    segment of its path, and nowhere else; or it is no absolute http(s) URL)."""
    if not located_id or not cdr_id or location.count(quote(located_id, safe="")) != 1:
        return None
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None  # not a URL to GET
    segments = parts.path.split("/")
    at = [i for i, segment in enumerate(segments) if unquote(segment) == located_id]
    if len(at) != 1:
        return None
    segments[at[0]] = quote(cdr_id, safe="")
    return parts._replace(path="/".join(segments)).geturl()


def _moment(value: Any) -> datetime | None:
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def judge(method: str, body: Any, answer: Answer) -> Verdict:
    """What the partner's answer to the GET says of the push (``method``, ``body``).

    ``answer`` is a reply the partner gave: an OCPI 1xxx with HTTP 2xx, or a refusal (HTTP 4xx,
    OCPI 2xxx). No answer at all, or a transient one, gives no verdict: the caller retries."""
    unknown = answer.http_status == 404 or answer.status_code in _UNKNOWN_OBJECT
    found = (
        answer.http_status < 300
        and answer.status_code is not None
        and 1000 <= answer.status_code < 2000
        and isinstance(answer.data, dict)
    )
    if not found:
        if unknown:
            return Verdict.HOLDS if method == "DELETE" else Verdict.LACKS
        return Verdict.UNANSWERABLE
    if method == "POST":
        return Verdict.HOLDS if _same_cdr(body, answer.data) else Verdict.UNANSWERABLE
    if method == "DELETE":
        return Verdict.LACKS
    pushed = _moment(body.get("last_updated")) if isinstance(body, dict) else None
    theirs = _moment(answer.data.get("last_updated"))
    if pushed is None:
        return Verdict.UNANSWERABLE
    if theirs is None or theirs < pushed:
        return Verdict.LACKS
    if theirs == pushed and method == "PATCH" and not _patched(body, answer.data):
        return Verdict.LACKS  # another change of the same moment: this one is not there
    return Verdict.HOLDS


def _patched(body: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Whether the partner's copy has every field the PATCH set, as it set it."""
    return all(theirs.get(name) == value for name, value in body.items() if name != "last_updated")


def _same_cdr(body: Any, theirs: dict[str, Any]) -> bool:
    """Whether the partner's object is the CDR POSTed: the same ``id``, and the same
    ``country_code`` and ``party_id`` where both carry them (OCPI 2.1.1 CDRs do not)."""
    if not isinstance(body, dict) or not body.get("id") or theirs.get("id") != body["id"]:
        return False
    return all(
        str(theirs[name]).upper() == str(body[name]).upper()
        for name in ("country_code", "party_id")
        if name in theirs and name in body
    )
