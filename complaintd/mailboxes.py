"""Mailbox settings → intake objects: the IMAP account with its sign-in, and the poller."""

from __future__ import annotations

from complaintd.settings import ImapMailbox
from intake.auth import CommandToken, FileToken, ImapLogin, M365Token, TokenSource
from intake.imap import ImapAccount


def imap_account(box: ImapMailbox) -> ImapAccount:
    return ImapAccount(
        name=box.name, host=box.host, port=box.port, security=box.security,
        username=box.username, password=box.secret(), folder=box.folder,
        processed_folder=box.processed_folder, batch_size=box.batch_size,
        timeout=box.timeout_seconds, login=imap_login(box), start_uid=box.start_uid,
        start_date=box.start_date, max_message_bytes=box.max_message_bytes,
        after_commit=box.after_commit, done_flag=box.done_flag,
        ca_file=str(box.ca_file) if box.ca_file else None)


def imap_login(box: ImapMailbox) -> ImapLogin:
    if box.auth == "password":
        return ImapLogin("password", box.username, box.secret())
    return ImapLogin(box.auth, box.username, tokens=token_source(box))


def token_source(box: ImapMailbox) -> TokenSource | None:
    if box.auth == "m365":
        return M365Token(box.tenant_id, box.client_id, box.secret())
    if box.token_command:
        return CommandToken(box.token_command)
    if box.token_file is not None:
        return FileToken(box.token_file)
    return None
