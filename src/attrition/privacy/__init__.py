"""Personal data: pseudonyms for employee ids (``pseudonymise``) and the erasure of one
person's rows (``attrition.privacy.erasure``, which needs the database)."""

from attrition.privacy.pseudonyms import pseudonymise

__all__ = ["pseudonymise"]
