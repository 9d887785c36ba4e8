"""Capacity profiles of programs: slots, waitlist, staffing, their history and freshness."""
