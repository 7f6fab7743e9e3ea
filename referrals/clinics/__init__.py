"""Advice clinics: sessions the advice organisation publishes (an advisor at a practice, on a ward, at a
community venue, or by phone or video), cut into slots a referrer books the patient into when the referral is
sent. Models here (imported by referrals.models), writes in `services`, reads in `selectors`, who may do what
in `permissions`."""
