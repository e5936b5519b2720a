"""Advance compensation (先行赔付): a public fund pays the tourist first, then recovers the
money from the merchant. Money moves only through the double-entry ledger in `ledger`."""
