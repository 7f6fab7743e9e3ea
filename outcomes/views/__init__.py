"""Outcomes pages: the managers' dashboard (dashboard), the funders' report and its CSV (report), and the
advisors' pages for a case's outcomes and closing it (case)."""
