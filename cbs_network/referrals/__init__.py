"""Closed-loop referrals: subjects and their consents, referrals and their state machine,
notes, disclosure records and program matching."""
