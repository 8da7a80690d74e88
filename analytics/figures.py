"""Every dashboard chart, built with Plotly from the collected metric frames.

One module draws every figure so the charts share one look (colors per movement
and reason, fonts, margins, hover) and the dashboard page only places them.
Figures take collected frames (``polars.DataFrame``) as the metric functions
return them, plus what the page decides: ``labels`` (translated names of series,
reasons and axes; a missing key shows the key) and ``money`` (formats minor
units, e.g. ``portal_app.i18n.format_money`` with the currency and locale bound).
Money is plotted in major units (``exponent``: the currency's minor-unit digits),
for the axis only; every number a reader sees in a hover is formatted by ``money``.
No Reflex import here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import plotly.graph_objects as go
import polars as pl

from analytics.metrics import MOVEMENTS

Money = Callable[[int], str]
Labels = Mapping[str, str]

FONT = "Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
INK, MUTED, GRID = "#1C2024", "#60646C", "#E8E8EC"
ACCENT = "#3E63DD"
MOVEMENT_COLORS = {
    "new": "#3E63DD",
    "expansion": "#30A46C",
    "reactivation": "#12A594",
    "contraction": "#F76B15",
    "churn": "#E5484D",
}
RATE_COLORS = {
    "logo_churn_rate": "#E5484D",
    "gross_revenue_churn_rate": "#F76B15",
    "net_revenue_churn_rate": "#8E4EC6",
}
REASON_COLORS = {
    "too_expensive": "#E5484D",
    "missing_features": "#3E63DD",
    "switched_service": "#8E4EC6",
    "unused": "#FFC53D",
    "customer_service": "#F76B15",
    "too_complex": "#12A594",
    "low_quality": "#D6409F",
    "other": "#8B8D98",
    "unknown": "#B9BBC6",
}
SMALL_MOVEMENT = 0.03  # of the waterfall's height: smaller movements go unlabeled
HEATMAP_SCALE = [[0.0, "#F7F9FF"], [0.5, "#9EB1FF"], [1.0, "#3451B2"]]


def _label(labels: Labels, key: str) -> str:
    return labels.get(key, key)


def _periods(frame: pl.DataFrame, column: str = "period") -> list:
    # Plotly reads naive datetimes as calendar dates; every period is UTC already.
    return frame[column].dt.replace_time_zone(None).to_list()


def _major(values: pl.Series, exponent: int) -> list[float]:
    return (values.cast(pl.Float64) / 10**exponent).to_list()


def _layout(fig: go.Figure, *, height: int = 300, legend: bool = True,
            percent_axis: bool = False, money_axis: bool = False) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        font={"family": FONT, "size": 12, "color": INK},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "xanchor": "left",
                "font": {"size": 11, "color": MUTED}},
        hoverlabel={"font": {"family": FONT}},
        bargap=0.25,
    )
    fig.update_xaxes(showgrid=False, linecolor=GRID, tickfont={"color": MUTED},
                     automargin=True)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor="#C1C5CB", tickfont={"color": MUTED},
                     automargin=True, rangemode="tozero")
    if percent_axis:
        fig.update_yaxes(ticksuffix="%")
    if money_axis:
        fig.update_yaxes(tickformat="~s")
    return fig


def empty_figure(message: str, *, height: int = 300) -> go.Figure:
    """A blank chart that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper",
                       yref="paper", font={"size": 13, "color": MUTED})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, height=height, legend=False)


def mrr_figure(mrr: pl.DataFrame, *, money: Money, exponent: int, labels: Labels) -> go.Figure:
    """MRR at each period's end as a filled line, paying customers in the hover.

    ``mrr``: ``period``, ``mrr`` and (optional) ``customers``, as
    :func:`analytics.metrics.mrr` or :func:`analytics.metrics.mrr_movements` return them.
    """
    if mrr.is_empty():
        return empty_figure(_label(labels, "no_data"))
    mrr = mrr.sort("period")
    customers = mrr["customers"].to_list() if "customers" in mrr.columns else [None] * mrr.height
    hover = [
        f"{money(value)}" + (f"<br>{count:,} {_label(labels, 'customers')}" if count is not None
                             else "")
        for value, count in zip(mrr["mrr"].to_list(), customers, strict=True)
    ]
    fig = go.Figure(go.Scatter(
        x=_periods(mrr), y=_major(mrr["mrr"], exponent), name=_label(labels, "mrr"),
        mode="lines+markers", line={"color": ACCENT, "width": 2.5, "shape": "spline",
                                    "smoothing": 0.4},
        marker={"size": 5}, fill="tozeroy", fillcolor="rgba(62,99,221,0.10)",
        hovertext=hover, hovertemplate="%{x|%b %Y}<br>%{hovertext}<extra></extra>",
    ))
    fig.update_xaxes(tickformat="%b %Y")
    return _layout(fig, legend=False, money_axis=True)


def movements_figure(movements: pl.DataFrame, *, money: Money, exponent: int,
                     labels: Labels) -> go.Figure:
    """Each period's MRR movements as bars above (gains) and below (losses) zero, net as a line.

    ``movements``: :func:`analytics.metrics.mrr_movements`.
    """
    if movements.is_empty():
        return empty_figure(_label(labels, "no_data"))
    movements = movements.sort("period")
    x = _periods(movements)
    fig = go.Figure()
    for name in MOVEMENTS:
        values = movements[name]
        fig.add_bar(
            x=x, y=_major(values, exponent), name=_label(labels, name),
            marker_color=MOVEMENT_COLORS[name],
            hovertext=[money(v) for v in values.to_list()],
            hovertemplate="%{hovertext}<extra>" + _label(labels, name) + "</extra>",
        )
    fig.add_scatter(
        x=x, y=_major(movements["net"], exponent), name=_label(labels, "net"),
        mode="lines+markers", line={"color": INK, "width": 1.5}, marker={"size": 4},
        hovertext=[money(v) for v in movements["net"].to_list()],
        hovertemplate="%{hovertext}<extra>" + _label(labels, "net") + "</extra>",
    )
    fig.update_layout(barmode="relative", hovermode="x unified")
    fig.update_xaxes(tickformat="%b %Y")
    fig = _layout(fig, money_axis=True)
    fig.update_yaxes(rangemode="normal")
    return fig


def waterfall_figure(movements: pl.DataFrame, *, money: Money, exponent: int,
                     labels: Labels) -> go.Figure:
    """From MRR at the range's start, through the range's total movements, to MRR at its end.

    ``movements``: :func:`analytics.metrics.mrr_movements` over the range (sorted).
    The bars add up: start + new + expansion + reactivation + contraction + churn = end.
    """
    if movements.is_empty():
        return empty_figure(_label(labels, "no_data"))
    movements = movements.sort("period")
    start = int(movements["mrr_start"][0])
    end = int(movements["mrr"][-1])
    steps = ["new", "expansion", "reactivation", "contraction", "churn"]
    totals = [int(movements[name].sum()) for name in steps]
    names = [_label(labels, "mrr_start"), *(_label(labels, n) for n in steps),
             _label(labels, "mrr_end")]
    values = [start, *totals, end]
    levels = [start]
    for total in totals:
        levels.append(levels[-1] + total)
    top = max(*levels, end, 1)
    # a movement too small to see gets no label (its neighbors' would overlap it); the
    # hover still tells every amount
    shown = [money(v) if i in (0, len(values) - 1) or abs(v) >= SMALL_MOVEMENT * top else ""
             for i, v in enumerate(values)]
    fig = go.Figure(go.Waterfall(
        x=names, y=[v / 10**exponent for v in values],
        measure=["absolute", *["relative"] * len(steps), "total"],
        text=shown, textposition="outside", constraintext="none",
        cliponaxis=False, textfont={"size": 10, "color": INK},
        hovertext=[money(v) for v in values],
        hovertemplate="%{x}: %{hovertext}<extra></extra>",
        connector={"line": {"color": GRID}},
        increasing={"marker": {"color": MOVEMENT_COLORS["expansion"]}},
        decreasing={"marker": {"color": MOVEMENT_COLORS["churn"]}},
        totals={"marker": {"color": ACCENT}},
    ))
    fig = _layout(fig, legend=False, money_axis=True)
    fig.update_yaxes(range=[0, top / 10**exponent * 1.18])  # room above for the labels
    return fig


def churn_figure(churn: pl.DataFrame, *, labels: Labels) -> go.Figure:
    """Logo churn, gross and net revenue churn per period, in percent.

    ``churn``: :func:`analytics.metrics.churn_rates`; a period that started with no
    customers has no rate (a gap, not a zero).
    """
    if churn.is_empty():
        return empty_figure(_label(labels, "no_data"))
    churn = churn.sort("period")
    fig = go.Figure()
    x = _periods(churn)
    for column, color in RATE_COLORS.items():
        fig.add_scatter(
            x=x, y=(churn[column] * 100).to_list(), name=_label(labels, column),
            mode="lines+markers", line={"color": color, "width": 2}, marker={"size": 5},
            hovertemplate="%{y:.1f}%<extra>" + _label(labels, column) + "</extra>",
        )
    fig.update_layout(hovermode="x unified")
    fig.update_xaxes(tickformat="%b %Y")
    fig = _layout(fig, percent_axis=True)
    fig.update_yaxes(rangemode="normal")
    return fig


def reasons_figure(reasons: pl.DataFrame, *, money: Money, labels: Labels) -> go.Figure:
    """Cancellations per reason as horizontal bars, the most frequent on top.

    ``reasons``: :func:`analytics.metrics.cancellation_reasons` of one currency.
    """
    if reasons.is_empty():
        return empty_figure(_label(labels, "no_cancellations"))
    ordered = reasons.sort(["cancellations", "lost_mrr"], descending=True)
    names = [_label(labels, f"reason_{r}") for r in ordered["reason"].to_list()]
    hover = [
        f"{count:,} · {share:.0%}<br>{money(lost)} {_label(labels, 'lost_mrr')}"
        for count, share, lost in ordered.select("cancellations", "share", "lost_mrr").rows()
    ]
    fig = go.Figure(go.Bar(
        x=ordered["cancellations"].to_list(), y=names, orientation="h",
        marker_color=[REASON_COLORS.get(r, REASON_COLORS["other"])
                      for r in ordered["reason"].to_list()],
        text=[f"{s:.0%}" for s in ordered["share"].to_list()], textposition="auto",
        hovertext=hover, hovertemplate="%{y}<br>%{hovertext}<extra></extra>",
    ))
    fig = _layout(fig, height=max(220, 34 * ordered.height + 40), legend=False)
    fig.update_yaxes(autorange="reversed", gridcolor="rgba(0,0,0,0)", rangemode="normal")
    fig.update_xaxes(showgrid=True, gridcolor=GRID)
    return fig


def reason_trend_figure(trend: pl.DataFrame, *, labels: Labels) -> go.Figure:
    """Cancellations per period, stacked by reason.

    ``trend``: :func:`analytics.metrics.cancellation_reason_trend` of one currency.
    """
    if trend.is_empty():
        return empty_figure(_label(labels, "no_cancellations"))
    order = (trend.group_by("reason").agg(pl.col("cancellations").sum())
             .sort(["cancellations", "reason"], descending=[True, False])["reason"].to_list())
    periods = trend.select("period").unique().sort("period")
    fig = go.Figure()
    for reason in order:
        rows = periods.join(trend.filter(pl.col("reason") == reason), on="period", how="left")
        fig.add_bar(
            x=_periods(rows), y=rows["cancellations"].fill_null(0).to_list(),
            name=_label(labels, f"reason_{reason}"),
            marker_color=REASON_COLORS.get(reason, REASON_COLORS["other"]),
            hovertemplate="%{y}<extra>" + _label(labels, f"reason_{reason}") + "</extra>",
        )
    fig.update_layout(barmode="stack", hovermode="x unified")
    fig.update_xaxes(tickformat="%b %Y")
    return _layout(fig)


def cohort_figure(cohorts: pl.DataFrame, *, labels: Labels,
                  value: str = "customer_retention") -> go.Figure:
    """Retention of each signup cohort (rows, oldest on top) by age in periods (columns).

    ``cohorts``: :func:`analytics.metrics.cohort_retention` of one currency; ``value``
    is ``customer_retention`` or ``revenue_retention``. Cells show whole percents.
    """
    if cohorts.is_empty():
        return empty_figure(_label(labels, "no_data"))
    wide = (cohorts.select("cohort", "age", (pl.col(value) * 100).alias("value"))
            .sort("age").pivot(on="age", index="cohort", values="value").sort("cohort"))
    ages = [int(c) for c in wide.columns[1:]]
    z = wide.select(wide.columns[1:]).rows()
    names = [c.strftime("%b %Y") for c in wide["cohort"].to_list()]
    text = [["" if v is None else f"{v:.0f}%" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=ages, y=names, text=text, texttemplate="%{text}", textfont={"size": 10},
        colorscale=HEATMAP_SCALE, zmin=0, zmax=100, xgap=2, ygap=2, showscale=False,
        hovertemplate=(_label(labels, "cohort") + " %{y}, " + _label(labels, "age")
                       + " %{x}: %{z:.1f}%<extra></extra>"),
    ))
    fig = _layout(fig, height=max(240, 26 * len(names) + 60), legend=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, rangemode="normal", type="category")
    fig.update_xaxes(title={"text": _label(labels, "age_axis"), "font": {"size": 11,
                                                                          "color": MUTED}},
                     dtick=1, side="top")
    return fig
