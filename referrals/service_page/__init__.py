"""The advice service's page for referrers: what it helps with, who is eligible, how to refer, what happens
next, its contacts, and its upcoming advice clinics (read from referrals/clinics, not written twice)."""
