"""Chart classes for `EChartsPanel`: Nautobot's `EChartsBase` with two layouts it lacks (stacked, horizontal).

Each only rewrites the option dictionary Nautobot builds; Nautobot's own template and JavaScript draw it.
"""

from nautobot.apps.ui import EChartsBase, EChartsTypeChoices

from nautobot_contracts.services.money import round_money

# Readable axes: room for long names, numbers with thousands separators come from ECharts' defaults.
GRID = {"left": 16, "right": 24, "bottom": 36, "top": 48, "containLabel": True}
# The legend above the plot (Nautobot's default sits on the x axis labels); the x axis name centred below them.
LEGEND = {"top": 0, "right": 8, "type": "scroll"}
X_AXIS_NAME = {"nameLocation": "middle", "nameGap": 28}


def chart_amount(amount):
    """A money figure for a chart: rounded half-up to cents (shown), as a JSON number."""
    return float(round_money(amount))


class ContractsChart(EChartsBase):
    """Nautobot's chart with an axis tooltip, a grid that fits its labels, and no toolbox."""

    show_toolbox = False

    def get_config(self, context=None):
        """Nautobot's option dictionary, plus the tooltip and grid."""
        config = super().get_config(context=context)
        config.setdefault("grid", GRID)
        if config.get("legend", {}).get("show", True):
            config["legend"] = {**LEGEND, **config.get("legend", {})}
        if isinstance(config.get("xAxis"), dict):
            config["xAxis"].update(X_AXIS_NAME)
        if self.chart_type != EChartsTypeChoices.PIE and not config.get("tooltip"):
            config["tooltip"] = {"trigger": "axis"}
        config["title"] = {}  # the panel header already names the chart
        return config


class StackedBarChart(ContractsChart):
    """Bars stacked per x value, one layer per series (e.g. per currency)."""

    def get_config(self, context=None):
        """Put every series on one stack."""
        config = super().get_config(context=context)
        for series in config["series"]:
            series["stack"] = "total"
        return config


class BarsWithLineChart(ContractsChart):
    """Bars for every series but the last, which is drawn as a line (e.g. invoiced per month against expected)."""

    def get_config(self, context=None):
        """Turn the last series into a line with its points shown."""
        config = super().get_config(context=context)
        if len(config["series"]) > 1:
            config["series"][-1].update({"type": "line", "connectNulls": True, "symbol": "circle"})
        return config


class HorizontalBarChart(ContractsChart):
    """Bars along the y axis, largest on top: for rankings with long names."""

    def get_config(self, context=None):
        """Swap the axes and reverse the order so the first item is drawn at the top."""
        config = super().get_config(context=context)
        category, value = config["xAxis"], config["yAxis"]
        category["data"] = list(reversed(category.get("data", [])))
        for series in config["series"]:
            series["data"] = list(reversed(series["data"]))
        category["name"] = ""  # the names say what they are; the value axis keeps its label
        value.update(X_AXIS_NAME)
        config["xAxis"], config["yAxis"] = value, category
        return config
