"""Updates from different chats side by side, from one chat in order (handlers/ordering.py)."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from handlers.ordering import PerChatProcessor


def message(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    user = User(chat_id, "Người dùng", is_bot=False)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text="hi"))  # type: ignore[arg-type]


async def test_one_chat_waits_in_order_while_another_goes_ahead():
    processor = PerChatProcessor(max_concurrent=8)
    events: list[str] = []

    async def handle(name: str, seconds: float) -> None:
        events.append(f"{name} start")
        await asyncio.sleep(seconds)
        events.append(f"{name} end")

    async with processor:
        await asyncio.gather(
            processor.process_update(message(1, 5), handle("A1", 0.05)),  # a slow export in chat 5
            processor.process_update(message(2, 5), handle("A2", 0.0)),   # chat 5's next message waits for it
            processor.process_update(message(3, 7), handle("B1", 0.0)),   # chat 7 does not wait
        )
    assert events.index("B1 end") < events.index("A1 end")
    assert events.index("A1 end") < events.index("A2 start")
    assert processor._locks == {}  # nothing kept for chats that are done


async def test_many_updates_from_one_chat_never_overlap():
    processor = PerChatProcessor(max_concurrent=16)
    running = 0
    peak = 0

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1

    async with processor:
        await asyncio.gather(*(processor.process_update(message(i, 9), handle()) for i in range(40)))
    assert peak == 1
