"""Phone numbers as hotline staff type them, normalised to one plain form.

The plain form is E.164 without separators: ``+8613812345678`` for a mobile,
``+862112345678`` for a Shanghai landline, ``+8657187654321`` for one in Hangzhou, and
``+862112345678;ext=801`` when an extension (``转801``) is given. Decisions:

* A bare 8-digit number is a Shanghai landline: the hotline is in Shanghai and callers
  from here give their number without the area code. Any other number needs its area
  code (``0571-87654321``), because we cannot guess the city.
* Numbers from outside mainland China are kept when written with ``+`` or ``00`` and a
  country code (``+852 2123 4567``); they are not checked further.
* 400/800 service numbers are accepted (companies call too).
* A landline without its trunk 0 (``2155501234``, as Excel keeps a number) gets it back.
"""

from __future__ import annotations

import re
import unicodedata

from intake.hotline.problems import FieldProblem

_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
# Excel shows long numbers as 1.38123E+10 and may export them so: the digits are gone.
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?e\+?\d+", re.IGNORECASE)
_PHONE_CHARACTERS = re.compile(r"\+?[\d\s\-().]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")
# Area codes: 10 (Beijing), 2x (large cities), else three digits; the trunk 0 before them.
_LANDLINE = re.compile(r"0(10|2\d|[3-9]\d{2})(\d{7,8})")
_LANDLINE_AFTER_86 = re.compile(r"0?(10|2\d|[3-9]\d{2})(\d{7,8})")
_SHANGHAI_LOCAL = re.compile(r"[1-9]\d{7}")

NOT_A_NUMBER = FieldProblem(
    "不是有效的电话号码（手机 11 位；固话请带区号，上海本地 8 位可不带）",
    "not a valid phone number (mobiles have 11 digits; landlines need the area code, "
    "except 8-digit Shanghai numbers)",
)


def normalise_phone(text: str) -> str:
    """``text`` as a plain international number; FieldProblem if it is not a phone number."""
    s = unicodedata.normalize("NFKC", text).strip()
    s, extension = _split_extension(s)
    if _SCIENTIFIC.fullmatch(s):
        raise FieldProblem(
            "号码被 Excel 改成了科学计数法，请把这一列设为“文本”后重新导出",
            "Excel turned the number into scientific notation; format the column as text "
            "and export again",
        )
    s = s.removesuffix(".0")  # a number column exported as a float
    if not _PHONE_CHARACTERS.fullmatch(s):
        raise FieldProblem(
            "号码里有不属于电话号码的字符", "the number has characters phones do not have"
        )
    digits = re.sub(r"\D", "", s)
    if s.startswith("+") or digits.startswith("00"):
        number = _international(digits.removeprefix("00"))
    else:
        number = _domestic(digits)
    return f"{number};ext={extension}" if extension else number


def _split_extension(s: str) -> tuple[str, str]:
    m = _EXTENSION.search(s)
    if m is None or m.start() == 0:
        return s, ""
    return s[: m.start()], m[1]


def _international(digits: str) -> str:
    if digits.startswith("86"):
        return _mainland(digits[2:], after_country_code=True)
    # E.164 allows at most 15 digits; 8 is the shortest real international number we accept.
    if 8 <= len(digits) <= 15:
        return "+" + digits
    raise NOT_A_NUMBER


def _domestic(digits: str) -> str:
    # "86" typed without the plus: only the long forms can be that (a local number is 8 digits).
    if digits.startswith("86") and len(digits) >= 12:
        return _mainland(digits[2:], after_country_code=True)
    return _mainland(digits, after_country_code=False)


def _mainland(national: str, *, after_country_code: bool) -> str:
    if _MOBILE.fullmatch(national) or _SERVICE.fullmatch(national):
        return "+86" + national
    landline = (_LANDLINE_AFTER_86 if after_country_code else _LANDLINE).fullmatch(national)
    if landline is not None:
        return f"+86{landline[1]}{landline[2]}"
    if not after_country_code and _SHANGHAI_LOCAL.fullmatch(national):
        return "+8621" + national
    # A landline kept as a number in Excel loses its trunk 0 (021-55501234 → 2155501234).
    # No mobile or local number is this long without it, so putting it back is safe.
    dropped_zero = _LANDLINE.fullmatch("0" + national) if len(national) >= 9 else None
    if not after_country_code and dropped_zero is not None:
        return f"+86{dropped_zero[1]}{dropped_zero[2]}"
    raise NOT_A_NUMBER
