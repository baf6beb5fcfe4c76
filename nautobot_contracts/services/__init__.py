"""The domain rules of nautobot-contracts (money, renewals, coverage) as plain functions over querysets.

Views, serializers, jobs and templates call these; none of them re-derives a rule. Every function that returns
objects a user will see takes an optional `user` and restricts with `.restrict(user, "view")`.
"""
