"""The referrers' survey of the advice service: after an outcome report reaches a referrer, they rate the
service from their inbox (how useful, would they refer again, a comment), once per outcome report; the advice
service (its advisors and supervisors, and the partnership's managers) reads the results."""
