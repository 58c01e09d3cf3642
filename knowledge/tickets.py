"""Questions handed to officials and citizens' reports (phản ánh – kiến nghị), with their answers.

A ticket is what a citizen hands to the commune: a question the bot could not answer ("question") or a
problem to fix ("report": a road, a street light, rubbish), with a photo and a location when given. It keeps
only what it needs to be answered: the chat to answer in, the language, the text, the photo's file id and
the location. Never a name or a username; the logs name the asker by a keyed hash. Thirty days after it is
closed (answered, done) the chat id is forgotten: the answer stays, nobody can be reached through it.

Every message a ticket causes (its post to the officials, the answer to the citizen, each change of status)
is a row of an outbox written in the same transaction as the change itself, then sent by one worker (see
handlers/tickets.py): 'pending' → 'sending' (committed before the call) → 'sent'. A restart resumes the
pending rows; one found 'sending' was in flight when the process died and becomes 'unknown', never sent
twice. The answer itself is in the database either way, and /theodoi shows it to the citizen.

No Telegram types here: the handlers parse and reply, this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

QUESTION, REPORT = "question", "report"
KINDS = (QUESTION, REPORT)
# A question is open until answered; a report goes đã nhận → đang xử lý → đã xong (never back).
OPEN, ANSWERED = "open", "answered"
RECEIVED, IN_PROGRESS, DONE = "received", "in_progress", "done"
STATUSES = {QUESTION: (OPEN, ANSWERED), REPORT: (RECEIVED, IN_PROGRESS, DONE)}
CLOSED = (ANSWERED, DONE)
TEXT_MAX = 2000  # characters of a citizen's text or an official's answer kept
KEEP_CHAT_SECONDS = 30 * 24 * 3600  # a closed ticket forgets its chat after this long
DRAFT_SECONDS = 24 * 3600  # an offer or a draft not sent within a day is forgotten
POST_MARK = "🎫 #"  # how every officials' post about a ticket begins: a reply to it is an answer


class TicketError(Exception):
    """What a citizen or an official asked cannot be done: ``reason`` is a locale key's last part."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _from_row(cls: type, names: list[str], row: tuple) -> object:
    wanted = {f.name for f in fields(cls)}
    return cls(**{n: v for n, v in zip(names, row) if n in wanted})


@dataclass(frozen=True)
class Ticket:
    id: int
    kind: str
    status: str
    chat_id: int | None  # None once forgotten (closed for 30 days)
    lang: str
    text: str
    photo: str | None
    latitude: float | None
    longitude: float | None
    created_at: float
    updated_at: float
    closed_at: float | None

    @classmethod
    def from_row(cls, names: list[str], row: tuple) -> Ticket:
        return _from_row(cls, names, row)  # type: ignore[return-value]

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    def export_row(self) -> dict[str, object]:
        """What /xuat gives: everything but the chat."""
        return {"id": self.id, "kind": self.kind, "status": self.status, "text": self.text,
                "photo": "yes" if self.photo else "", "latitude": self.latitude, "longitude": self.longitude,
                "created_at": self.created_at, "updated_at": self.updated_at, "closed_at": self.closed_at}


@dataclass(frozen=True)
class TicketEvent:
    """An official's answer, or a change of a report's status, with who made it."""

    id: int
    ticket_id: int
    kind: str  # "answer" | "status"
    text: str | None
    status: str | None
    by_user: int | None
    by_name: str | None
    at: float
    curated_id: int | None  # an answer kept as a taught answer (/themhoidap's table)

    @classmethod
    def from_row(cls, names: list[str], row: tuple) -> TicketEvent:
        return _from_row(cls, names, row)  # type: ignore[return-value]


@dataclass(frozen=True)
class OutboxItem:
    """One message a ticket causes: a post to the officials ("post", "photo", "location"), an answer or a
    status change to the citizen ("answer", "status"), the officials' daily count ("digest")."""

    id: int
    ticket_id: int | None
    event_id: int | None
    purpose: str
    chat_id: int | None
    lang: str
    state: str
    attempts: int

    @classmethod
    def from_row(cls, names: list[str], row: tuple) -> OutboxItem:
        return _from_row(cls, names, row)  # type: ignore[return-value]


@dataclass(frozen=True)
class Draft:
    """What a citizen is writing (a report: text, photo, location) or is about to send (a question typed
    after "Gửi câu hỏi cho cán bộ xã"), or the answer an official is about to type (after ✍️ Trả lời)."""

    user_id: int
    chat_id: int
    kind: str  # "report" | "question" | "answer"
    token: str
    ticket_id: int | None
    text: str
    photo: str | None
    latitude: float | None
    longitude: float | None
    lang: str
    created_at: float

    @classmethod
    def from_row(cls, names: list[str], row: tuple) -> Draft:
        return _from_row(cls, names, row)  # type: ignore[return-value]

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.photo


@dataclass(frozen=True)
class Recipient:
    """Where officials read tickets: the officials' group, or one official's private chat."""

    chat_id: int
    lang: str


def recipients(officials_chat: int | None, officials: list[int], admins: frozenset[int],
               lang_of: dict[int, str]) -> list[Recipient]:
    """The officials' group when configured, else every official and admin privately (each in their language)."""
    if officials_chat:
        return [Recipient(officials_chat, "vi")]
    people = sorted(set(officials) | set(admins))
    return [Recipient(p, lang_of.get(p) or "vi") for p in people]


def first_status(kind: str) -> str:
    return STATUSES[kind][0]


def check_move(ticket: Ticket, status: str) -> None:
    """A report moves forward only (đã nhận → đang xử lý → đã xong, or straight to đã xong); the same status
    again is 'same' (a second press), a question has no statuses to set."""
    order = STATUSES[REPORT]
    if ticket.kind != REPORT or status not in order:
        raise TicketError("not_a_report")
    if status == ticket.status:
        raise TicketError("same_status")
    if order.index(status) < order.index(ticket.status):
        raise TicketError("backwards")


def clean_text(text: str) -> str:
    """A citizen's or an official's words as kept: stripped, at most TEXT_MAX characters."""
    return text.strip()[:TEXT_MAX]


def parse_officials_chat(value: object) -> int | None:
    """commune.yaml's ``officials_chat`` (or an admin's /nhomcanbo): a chat id such as -1001234567890, or
    nothing. Anything else is no chat (never a guess)."""
    text = str(value or "").strip()
    if text.lstrip("-").isdigit() and int(text) != 0:
        return int(text)
    return None


def age_days(created_at: float, now: float) -> int:
    return max(0, int((now - created_at) // 86400))


class TicketDesk:
    """The rules over the store: what may be asked, reported, answered, moved and kept, and what is forgotten.
    Every method writes in one transaction, with the messages it causes in the outbox."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ask(self, chat_id: int, lang: str, text: str, request: str, to: list[Recipient],
            drop_draft: tuple[int, int] | None = None) -> tuple[Ticket, bool]:
        """A question for the officials: (the ticket, whether this call made it)."""
        text = clean_text(text)
        if not text:
            raise TicketError("empty_question")
        return self.store.create_ticket(QUESTION, OPEN, chat_id, lang, text, request, to, drop_draft=drop_draft)

    def report(self, draft: Draft, to: list[Recipient]) -> tuple[Ticket, bool]:
        """A report from what the citizen wrote (text and/or a photo, a location if given)."""
        found = self.store.ticket_by_request(draft.token)
        if found is not None:
            return found, False
        if draft.empty:
            raise TicketError("empty_report")
        return self.store.create_ticket(REPORT, RECEIVED, draft.chat_id, draft.lang, clean_text(draft.text),
                                        draft.token, to, photo=draft.photo, latitude=draft.latitude,
                                        longitude=draft.longitude, drop_draft=(draft.user_id, draft.chat_id))

    def answer(self, ticket_id: int, text: str, by: int, name: str | None,
               request: str) -> tuple[Ticket, TicketEvent, bool]:
        """An official's answer (to a question: it is then answered; to a report: a message, its status
        unchanged): (the ticket, the answer, whether this call recorded it)."""
        ticket = self.store.ticket(ticket_id)
        if ticket is None:
            raise TicketError("unknown_ticket")
        text = clean_text(text)
        if not text:
            raise TicketError("empty_answer")
        question = ticket.kind == QUESTION
        event, new = self.store.add_ticket_event(ticket.id, "answer", request, by, name, text=text,
                                                 status=ANSWERED if question else None, closes=question)
        return self.store.ticket(ticket.id) or ticket, event, new

    def move(self, ticket_id: int, status: str, by: int, name: str | None) -> tuple[Ticket, TicketEvent]:
        """A report's next status; TicketError when it is not a move forward (or it moved meanwhile)."""
        ticket = self.store.ticket(ticket_id)
        if ticket is None:
            raise TicketError("unknown_ticket")
        check_move(ticket, status)
        try:
            event, new = self.store.add_ticket_event(ticket.id, "status", f"status:{ticket.id}:{status}", by, name,
                                                     status=status, closes=status == DONE,
                                                     expect_status=ticket.status)
        except ValueError:
            raise TicketError("moved") from None
        if not new:
            raise TicketError("same_status")
        return self.store.ticket(ticket.id) or ticket, event

    def keep(self, event_id: int, by: int) -> int:
        """An official's answer kept as a taught answer (the question asked, the answer given): its id."""
        event = self.store.ticket_event(event_id)
        ticket = self.store.ticket(event.ticket_id) if event is not None else None
        if event is None or ticket is None or event.kind != "answer" or ticket.kind != QUESTION or not event.text:
            raise TicketError("nothing_to_keep")
        curated = self.store.keep_ticket_answer(event.id, [ticket.text], event.text, by)
        if curated is None:
            raise TicketError("already_kept")
        return curated

    def forget(self, now: float) -> int:
        """Privacy: closed tickets forget their chat after 30 days; stale drafts and offers go."""
        return self.store.forget_ticket_chats(now - KEEP_CHAT_SECONDS, now - DRAFT_SECONDS)
