"""Email in over IMAP (mailboxes CEA reads) and SMTP (mail delivered to CEA's own SMTP server).

Both hand each raw message to the email adapter (``engagement.adapters.email.email_ingest``), so
threading, attachments and identification work as for the REST endpoint.
"""
