"""Reads for outcomes, by concern:
- figures: what each figure counts (one definition shared by the dashboard, the funder report and the digest);
- dashboard: the managers' dashboard for a partnership and period, as frozen dataclasses;
- digest: a referring organisation's figures for the referrers' monthly digest;
- case: one case's outcomes page.
What funders and referrers may see of those figures is outcomes.disclosure's rule; the funder report is
outcomes.report."""
