"""A tariff and a priced session in plain words, in Spanish, Portuguese or English.

``explain_tariff`` is what a driver app or a support agent shows for a tariff: each element's
prices and the conditions under which they apply, the price limits, the tax rule. ``why`` is
the explanation of one breakdown line: which element priced it, under which restriction, and why
each earlier element with the same dimension did not apply at that moment (the check that
failed, with the value it saw). Both read the compiled checks, so the words say exactly what the
engine does. Day names and number formats come from CLDR (Babel). Pure; no I/O.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from babel.numbers import format_decimal

from intercarga.billing.compiled import (
    Check,
    PricedTariff,
    Restriction,
    State,
    compile_tariff,
)
from intercarga.billing.result import CdrPricing, Line
from intercarga.domain.money import currency as currency_of
from intercarga.domain.tariff import (
    PriceComponent,
    TariffDimension,
    TaxAmount,
    TaxIncluded,
)
from intercarga.errors import InvalidInputError

__all__ = ["LANGUAGES", "Language", "describe_checks", "explain_tariff", "local_time", "why"]

Language = Literal["es", "pt", "en"]
LANGUAGES: tuple[Language, ...] = ("es", "pt", "en")
_LOCALES = {"es": "es", "pt": "pt_BR", "en": "en"}

# Every phrase, per language. Placeholders are filled with already formatted values.
_WORDS: dict[str, dict[Language, str]] = {
    "title": {
        "en": "Tariff {id} ({currency})",
        "es": "Tarifa {id} ({currency})",
        "pt": "Tarifa {id} ({currency})",
    },
    "tax_excluded": {
        "en": "Prices exclude taxes; the VAT rate, when given, is added on top.",
        "es": "Los precios no incluyen impuestos; el IVA, cuando se indica, se suma.",
        "pt": "Os preços não incluem impostos; o imposto, quando indicado, é somado.",
    },
    "tax_included": {
        "en": "Prices include taxes.",
        "es": "Los precios incluyen impuestos.",
        "pt": "Os preços incluem impostos.",
    },
    "tax_none": {
        "en": "No taxes apply to this tariff.",
        "es": "No se aplican impuestos a esta tarifa.",
        "pt": "Não há impostos nesta tarifa.",
    },
    "element": {"en": "Element {n}", "es": "Elemento {n}", "pt": "Elemento {n}"},
    "always": {"en": "always", "es": "siempre", "pt": "sempre"},
    # why(): the reasons behind one priced line.
    "why_step": {
        "en": "step_size {step} of elements[{element}]: the session's billed total rounded up "
        "once (mod_cdrs step_size)",
        "es": "step_size {step} de elements[{element}]: el total facturado de la sesión "
        "redondeado hacia arriba una vez (step_size de mod_cdrs)",
        "pt": "step_size {step} de elements[{element}]: o total faturado da sessão arredondado "
        "para cima uma vez (step_size de mod_cdrs)",
    },
    "why_saw": {"en": "{check} (saw {seen})", "es": "{check} (se vio {seen})",
                "pt": "{check} (visto {seen})"},
    "why_skip": {
        "en": "elements[{element}] not applicable: {failed}",
        "es": "elements[{element}] no aplica: {failed}",
        "pt": "elements[{element}] não se aplica: {failed}",
    },
    "why_free": {
        "en": "no element applies at this moment, so this is free",
        "es": "ningún elemento aplica en este momento, así que es gratis",
        "pt": "nenhum elemento se aplica neste momento, então é grátis",
    },
    "why_applies": {
        "en": "elements[{element}] applies ({checks})",
        "es": "elements[{element}] aplica ({checks})",
        "pt": "elements[{element}] se aplica ({checks})",
    },
    "seen_time": {"en": "local time {time}", "es": "hora local {time}", "pt": "hora local {time}"},
    "seen_day": {"en": "local day {day}", "es": "día local {day}", "pt": "dia local {day}"},
    "seen_date": {"en": "local date {date}", "es": "fecha local {date}", "pt": "data local {date}"},
    "seen_kwh": {
        "en": "{kwh} kWh charged so far",
        "es": "{kwh} kWh cargados hasta entonces",
        "pt": "{kwh} kWh carregados até então",
    },
    "seen_duration": {
        "en": "{seconds} s into the session",
        "es": "{seconds} s de sesión",
        "pt": "{seconds} s de sessão",
    },
    "seen_unreported": {"en": "not reported", "es": "no informado", "pt": "não informado"},
    "to": {"en": " to ", "es": " a ", "pt": " a "},
    "field_current": {"en": "current", "es": "corriente", "pt": "corrente"},
    "field_power": {"en": "power", "es": "potencia", "pt": "potência"},
    "why_unreported": {
        "en": "{field} not reported for this period: taken as met",
        "es": "{field} no informado en este período: se da por cumplido",
        "pt": "{field} não informado neste período: considerado cumprido",
    },
    "when": {"en": "when", "es": "cuando", "pt": "quando"},
    "and": {"en": " and ", "es": " y ", "pt": " e "},
    "FLAT": {"en": "a fixed fee of {price}", "es": "un cargo fijo de {price}",
             "pt": "uma taxa fixa de {price}"},
    "ENERGY": {"en": "{price} per kWh", "es": "{price} por kWh", "pt": "{price} por kWh"},
    "TIME": {"en": "{price} per hour of charging", "es": "{price} por hora de carga",
             "pt": "{price} por hora de recarga"},
    "PARKING_TIME": {
        "en": "{price} per hour parked without charging",
        "es": "{price} por hora estacionado sin cargar",
        "pt": "{price} por hora estacionado sem carregar",
    },
    "RESERVATION_TIME": {"en": "{price} per hour of reservation",
                         "es": "{price} por hora de reserva", "pt": "{price} por hora de reserva"},
    "step": {"en": "billed per {step}", "es": "cobrado por bloques de {step}",
             "pt": "cobrado em blocos de {step}"},
    "vat": {"en": "VAT {vat} %", "es": "IVA {vat} %", "pt": "imposto {vat} %"},
    "time": {"en": "from {start} to {end}", "es": "de {start} a {end}", "pt": "das {start} às {end}"},
    "days": {"en": "on {days}", "es": "los días {days}", "pt": "em {days}"},
    "range": {"en": "{first} to {last}", "es": "{first} a {last}", "pt": "{first} a {last}"},
    "date_from": {"en": "from {date}", "es": "desde el {date}", "pt": "a partir de {date}"},
    "date_to": {"en": "before {date}", "es": "antes del {date}", "pt": "antes de {date}"},
    "kwh_min": {"en": "once {value} kWh have been charged",
                "es": "una vez cargados {value} kWh", "pt": "após {value} kWh carregados"},
    "kwh_max": {"en": "until {value} kWh have been charged",
                "es": "hasta cargar {value} kWh", "pt": "até {value} kWh carregados"},
    "duration_min": {"en": "from {value} into the session", "es": "desde {value} de sesión",
                     "pt": "a partir de {value} de sessão"},
    "duration_max": {"en": "until {value} into the session", "es": "hasta {value} de sesión",
                     "pt": "até {value} de sessão"},
    "current_min": {"en": "charging at {value} A or more", "es": "cargando a {value} A o más",
                    "pt": "carregando a {value} A ou mais"},
    "current_max": {"en": "charging below {value} A", "es": "cargando a menos de {value} A",
                    "pt": "carregando abaixo de {value} A"},
    "power_min": {"en": "charging at {value} kW or more", "es": "cargando a {value} kW o más",
                  "pt": "carregando a {value} kW ou mais"},
    "power_max": {"en": "charging below {value} kW", "es": "cargando a menos de {value} kW",
                  "pt": "carregando abaixo de {value} kW"},
    "RESERVATION": {"en": "for a reservation", "es": "por una reserva", "pt": "por uma reserva"},
    "RESERVATION_EXPIRES": {
        "en": "for a reservation that expires unused",
        "es": "por una reserva que vence sin usarse",
        "pt": "por uma reserva que expira sem uso",
    },
    "min_price": {"en": "A session costs at least {price}.",
                  "es": "Una sesión cuesta como mínimo {price}.",
                  "pt": "Uma sessão custa no mínimo {price}."},
    "max_price": {"en": "A session costs at most {price}.",
                  "es": "Una sesión cuesta como máximo {price}.",
                  "pt": "Uma sessão custa no máximo {price}."},
    "after_taxes": {"en": "{price} with taxes", "es": "{price} con impuestos",
                    "pt": "{price} com impostos"},
    "first_match": {
        "en": "For each kind of charge, the first element above that applies at that moment"
              " is used; what no element prices is free.",
        "es": "Para cada tipo de cobro se usa el primer elemento de la lista que aplique en ese"
              " momento; lo que ningún elemento cobra es gratis.",
        "pt": "Para cada tipo de cobrança vale o primeiro elemento da lista aplicável naquele"
              " momento; o que nenhum elemento cobra é grátis.",
    },
    "valid_from": {"en": "Valid from {date}.", "es": "Vigente desde {date}.",
                   "pt": "Válida a partir de {date}."},
    "valid_to": {"en": "Valid until {date}.", "es": "Vigente hasta {date}.",
                 "pt": "Válida até {date}."},
    "alt_url": {"en": "More: {url}", "es": "Más información: {url}", "pt": "Mais: {url}"},
}  # fmt: skip

_UNITS: dict[str, dict[Language, tuple[str, str]]] = {
    "h": {"en": ("hour", "hours"), "es": ("hora", "horas"), "pt": ("hora", "horas")},
    "min": {"en": ("minute", "minutes"), "es": ("minuto", "minutos"),
            "pt": ("minuto", "minutos")},
    "s": {"en": ("second", "seconds"), "es": ("segundo", "segundos"),
          "pt": ("segundo", "segundos")},
}  # fmt: skip


def _say(key: str, language: Language, **values: object) -> str:
    return _WORDS[key][language].format(**values)


def _number(value: Decimal, language: Language, minimum_places: int = 0) -> str:
    pattern = "#,##0." + "0" * minimum_places + "#" * 12
    return format_decimal(value, format=pattern, locale=_LOCALES[language])


def _money(value: Decimal, code: str, language: Language) -> str:
    return f"{_number(value, language, currency_of(code).minor_unit)} {code}"


def _span(seconds: int, language: Language) -> str:
    """A duration in the largest whole unit: 3600 → '1 hour', 900 → '15 minutes'."""
    for unit, size in (("h", 3600), ("min", 60), ("s", 1)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            one, many = _UNITS[unit][language]
            return f"{count} {one if count == 1 else many}"
    return f"0 {_UNITS['s'][language][1]}"


def _clock(seconds: int) -> str:
    return f"{seconds // 3600 % 24:02d}:{seconds % 3600 // 60:02d}"


def _date(day_number: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day_number)).isoformat()


def _days(mask: int, language: Language) -> str:
    """Weekdays in words; three or more in a row as a range ("Monday to Friday")."""
    names = get_day_names("wide", locale=_LOCALES[language])
    runs: list[list[int]] = []
    for day in range(7):
        if mask >> day & 1:
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(_say("range", language, first=names[run[0]], last=names[run[-1]]))
        else:
            parts.extend(str(names[day]) for day in run)
    return ", ".join(parts)


def _check_words(check: Check, language: Language) -> str:
    low, high = check.low, check.high
    if check.field == "time":
        assert isinstance(low, int) and isinstance(high, int)
        return _say("time", language, start=_clock(low), end=_clock(high))
    if check.field == "day_of_week":
        assert isinstance(low, int)
        return _say("days", language, days=_days(low, language))
    if check.field == "date":
        parts = []
        if isinstance(low, int):
            parts.append(_say("date_from", language, date=_date(low)))
        if isinstance(high, int):
            parts.append(_say("date_to", language, date=_date(high)))
        return _WORDS["and"][language].join(parts)
    parts = []
    for bound, side in ((low, "min"), (high, "max")):
        if bound is None or (side == "min" and not bound):
            continue  # "at least 0" says nothing
        if check.field == "duration":
            assert isinstance(bound, int)
            value = _span(bound, language)
        else:
            assert isinstance(bound, Decimal | int)
            value = _number(Decimal(bound), language)
        parts.append(_say(f"{check.field}_{side}", language, value=value))
    return _WORDS["and"][language].join(parts)


def describe_checks(restriction: Restriction, language: Language = "en") -> str:
    """The conditions of one element in words ('always' when it has none)."""
    words = [_check_words(check, language) for check in restriction.checks]
    if restriction.source is not None and restriction.source.reservation is not None:
        words.insert(0, _say(restriction.source.reservation.value, language))
    if not words:
        return _say("always", language)
    return _WORDS["and"][language].join(words)


def _step(component: PriceComponent, language: Language) -> str | None:
    step = component.step_size
    if component.type is TariffDimension.FLAT or step <= 1:
        return None  # 1 Wh or 1 s is "exactly what was used"
    if component.type is TariffDimension.ENERGY:
        size = f"{_number(Decimal(step) / 1000, language)} kWh" if step >= 100 else f"{step} Wh"
    else:
        size = _span(step, language)
    return _say("step", language, step=size)


def _limit(key: str, limit: TaxAmount, code: str, language: Language) -> str:
    price = _money(limit.excl_vat, code, language)
    if limit.incl_vat is not None:
        price += f" ({_say('after_taxes', language, price=_money(limit.incl_vat, code, language))})"
    return _say(key, language, price=price)


def explain_tariff(tariff: PricedTariff, language: Language = "en") -> list[str]:
    """The tariff in plain words, one line per statement, in ``language`` (es, pt or en)."""
    if language not in LANGUAGES:
        raise InvalidInputError(f"{language!r}; expected one of es, pt, en", "language")
    compiled = compile_tariff(tariff)
    code = compiled.currency.code
    restrictions = {
        r.element: r
        for channel in (compiled.session, compiled.reservation_expired)
        for r in channel.restrictions
    }
    lines = [_say("title", language, id=tariff.id or "—", currency=code)]
    if tariff.tax_included is TaxIncluded.YES:
        lines.append(_say("tax_included", language))
    elif tariff.tax_included is TaxIncluded.NOT_APPLICABLE:
        lines.append(_say("tax_none", language))
    else:
        lines.append(_say("tax_excluded", language))
    for number, element in enumerate(tariff.elements):
        reserved = element.restrictions is not None and element.restrictions.reservation
        prices = []
        for component in element.price_components:
            kind = component.type.value
            if reserved and component.type is TariffDimension.TIME:
                kind = "RESERVATION_TIME"
            text = _say(kind, language, price=_money(component.price, code, language))
            extras = [
                extra
                for extra in (
                    _step(component, language),
                    None
                    if component.vat is None or tariff.tax_included is TaxIncluded.NOT_APPLICABLE
                    else _say("vat", language, vat=_number(component.vat, language)),
                )
                if extra
            ]
            if extras:
                text += f" ({', '.join(extras)})"
            prices.append(text)
        condition = describe_checks(restrictions[number], language)
        head = _say("element", language, n=number + 1)
        lines.append(f"{head}: {'; '.join(prices)} — {condition}.")
    if tariff.min_price is not None:
        lines.append(_limit("min_price", tariff.min_price, code, language))
    if tariff.max_price is not None:
        lines.append(_limit("max_price", tariff.max_price, code, language))
    lines.append(_say("first_match", language))
    if tariff.start_date_time is not None:
        lines.append(
            _say("valid_from", language, date=f"{tariff.start_date_time:%Y-%m-%d %H:%M} UTC")
        )
    if tariff.end_date_time is not None:
        lines.append(_say("valid_to", language, date=f"{tariff.end_date_time:%Y-%m-%d %H:%M} UTC"))
    alt_url = getattr(tariff, "tariff_alt_url", None)
    if alt_url:
        lines.append(_say("alt_url", language, url=alt_url))
    return lines


def _seen(check: Check, state: State, language: Language = "en") -> str:
    """The value a check read, in words, for the breakdown."""
    second, day, weekday, duration, energy = state[:5]
    if check.field == "time":
        return _say("seen_time", language, time=_clock(second))
    if check.field == "day_of_week":
        return _say("seen_day", language, day=_days(1 << weekday, language))
    if check.field == "date":
        return _say("seen_date", language, date=_date(day))
    if check.field == "kwh":
        return _say("seen_kwh", language, kwh=_number(energy, language))
    if check.field == "duration":
        return _say("seen_duration", language, seconds=duration)
    values = state[5:7] if check.field == "current" else state[7:9]
    unit = "A" if check.field == "current" else "kW"
    low, high = values
    shown = [f"{_number(v, language)} {unit}" for v in (low, high) if v is not None]
    if not shown:
        return _say("seen_unreported", language)
    field = _say(f"field_{check.field}", language)
    return f"{field} {_say('to', language).join(dict.fromkeys(shown))}"


def why(line: Line, pricing: CdrPricing, language: Language = "en") -> str:
    """Why this line was priced as it was: the element, its conditions, the ones passed over."""
    if line.kind == "step_size":
        assert line.component is not None
        step, element = line.component.step_size, line.component.element
        return _say("why_step", language, step=step, element=element)
    channel = pricing.reservation_channel if line.reservation else pricing.tariff.session
    assert channel is not None  # a reservation line implies a reservation channel was used
    dimension = TariffDimension("TIME" if line.dimension == "RESERVATION_TIME" else line.dimension)
    reasons = []
    chosen: Restriction | None = None
    for position, component in channel.candidates.get(dimension, []):
        restriction = channel.restrictions[position]
        if component is line.component:
            chosen = restriction
            break
        failed = [
            _say(
                "why_saw",
                language,
                check=_check_words(check, language),
                seen=_seen(check, line.state, language),
            )
            for check in restriction.checks
            if line.state is not None and not check.holds(line.state)
        ]
        reasons.append(
            _say("why_skip", language, element=component.element, failed="; ".join(failed))
        )
    if chosen is None or line.component is None:
        head = _say("why_free", language)
    else:
        checks = describe_checks(chosen, language)
        head = _say("why_applies", language, element=line.component.element, checks=checks)
        reasons.extend(_unknown(chosen, line.state, language))
    return "; ".join([head, *reasons])


def _unknown(restriction: Restriction, state: State | None, language: Language) -> list[str]:
    """Current or power restrictions taken as met because the period did not report them."""
    notes = []
    for check in restriction.checks:
        if state is not None and check.field in ("current", "power"):
            values = state[5:7] if check.field == "current" else state[7:9]
            if all(value is None for value in values):
                field = _say(f"field_{check.field}", language)
                notes.append(_say("why_unreported", language, field=field))
    return notes


def local_time(instant: int, time_zone: str) -> datetime:
    """An instant (UTC seconds) on the wall clock of ``time_zone``, for display."""
    return datetime.fromtimestamp(instant, UTC).astimezone(ZoneInfo(time_zone))
