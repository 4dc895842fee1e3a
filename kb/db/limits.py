"""How long each stored field may be: the database columns and the web's input checks use these same numbers."""

QUERY_MAX = 500  # a search as typed (and its normalised and corrected forms)
REASON_MAX = 1000  # the free-text reason of a "not helpful" vote
ID_MAX = 255  # article ids and ticket ids
HEX_ID_MAX = 32  # the uuid4 hex ids the database hands out (search, suggestion, deflection)
SESSION_MAX = 128
LOCALE_MAX = 16
AUDIENCE_MAX = 32
CATEGORY_MAX = 100
TEXT_MAX = 4000  # ticket queries and contact-form messages
REPLY_MAX = 20000  # a reply an agent sent (as long as a pasted ticket may be)
EMAIL_MAX = 320  # RFC 5321: 64 + 1 + 255
USER_MAX = 64  # a login name
LABEL_MAX = 100  # what an API token is for
VERDICT_MAX = 16
REJECT_REASON_MAX = 32
