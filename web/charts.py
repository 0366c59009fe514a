"""Server-drawn charts (pygal) for the secretary's pages, inlined in the page as SVG.

The SVG carries no script at all (pygal's tooltips need JavaScript; the table under each chart
gives the same numbers), no XML declaration, a font family that has Chinese glyphs, and labels and
values formatted for the reader's language. pygal writes every text through the XML serializer, so
names with markup in them come out escaped.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import pygal
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from markupsafe import Markup
from pygal.style import Style

from workflow.i18n import _

from .render import babel_locale, number_pattern

FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif"
STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1f2328",
    foreground_strong="#1f2328",
    foreground_subtle="#5c6370",
    colors=("#1565c0", "#2e7d32", "#ef6c00", "#b71c1c"),
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    title_font_size=16,
    legend_font_size=13,
    label_font_size=12,
    major_label_font_size=12,
)

SERIES = (
    ("response_rate", _("Response rate")),
    ("resolution_rate", _("Resolution rate")),
    ("satisfaction_rate", _("Satisfaction rate")),
    ("composite", _("Composite")),
)


def period_label(period: str, locale: str) -> str:
    """"2026-09" as the language writes a month: 2026年9月, Sep 2026."""
    return babel_dates.format_skeleton("yMMM", date(int(period[:4]), int(period[5:7]), 1), locale=babel_locale(locale))


def percent(value: float | None, locale: str) -> str:
    if value is None:
        return "—"
    return babel_numbers.format_percent(value, format=number_pattern("#,##0.0%"), locale=babel_locale(locale))


def _no_scripts(root):
    """Drop pygal's script elements (its configuration blob and any script link)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _config(title: str, locale: str, **extra) -> pygal.Config:
    config = pygal.Config()
    config.js = []
    config.disable_xml_declaration = True
    config.style = STYLE
    config.title = title
    config.no_data_text = _("No data").render(locale)
    config.show_legend = True
    config.legend_at_bottom = True
    config.legend_at_bottom_columns = 2
    config.truncate_legend = -1
    config.truncate_label = -1
    config.x_label_rotation = 30
    config.width = 800
    config.height = 420
    config.margin = 12
    config.explicit_size = False
    for key, value in extra.items():
        setattr(config, key, value)
    return config


def _svg(chart) -> Markup:
    chart.add_xml_filter(_no_scripts)
    # pygal escaped every text it wrote; the markup is the chart's own.
    return Markup(chart.render(is_unicode=True))


def rates_chart(trend: dict, locale: str) -> Markup:
    """The three rates and the composite over the trend's periods, as percentages."""
    keys = [key for key, _label in SERIES]
    return _rates_chart(trend["unit"]["name"], tuple((p["period"], *(p[k] for k in keys)) for p in trend["periods"]),
                        locale)


def received_chart(trend: dict, locale: str) -> Markup:
    """How many requests each period counted."""
    return _received_chart(trend["unit"]["name"], tuple((p["period"], p["received"]) for p in trend["periods"]),
                           locale)


# Drawing a chart costs more than the rest of the dashboard; the same figures in the same language
# draw the same SVG, so each process keeps the latest few.
@lru_cache(maxsize=64)
def _rates_chart(name: str, points: tuple[tuple, ...], locale: str) -> Markup:
    chart = pygal.Line(_config(
        _("Rates of {name}", name=name).render(locale), locale,
        range=(0, 1), include_x_axis=False, allow_interruptions=True, dots_size=3,
        value_formatter=lambda v: percent(v, locale), y_labels=[0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    chart.x_labels = [period_label(p[0], locale) for p in points]
    for i, (_key, label) in enumerate(SERIES, start=1):
        chart.add(label.render(locale), [p[i] for p in points])
    return _svg(chart)


@lru_cache(maxsize=64)
def _received_chart(name: str, points: tuple[tuple, ...], locale: str) -> Markup:
    chart = pygal.Bar(_config(
        _("Requests counted, {name}", name=name).render(locale), locale,
        show_legend=False,
        value_formatter=lambda v: babel_numbers.format_decimal(v, locale=babel_locale(locale))))
    chart.x_labels = [period_label(p[0], locale) for p in points]
    chart.add(_("Requests counted").render(locale), [p[1] for p in points])
    return _svg(chart)


@lru_cache(maxsize=64)
def coverage_chart(name: str, points: tuple[tuple, ...], locale: str) -> Markup:
    """Visit coverage (the share of households visited as the plan asks) over the months."""
    chart = pygal.Line(_config(
        _("Visit coverage, {name}", name=name).render(locale), locale,
        range=(0, 1), include_x_axis=False, allow_interruptions=True, dots_size=4, show_legend=False,
        value_formatter=lambda v: percent(v, locale), y_labels=[0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    chart.x_labels = [period_label(p[0], locale) for p in points]
    chart.add(_("Visit coverage").render(locale), [p[1] for p in points])
    return _svg(chart)
