"""The methods of a run in one paragraph, generated from the spec the engine was given (never typed in)."""

from apps.analyses.presentation import MEASURE_NAMES, TAU2_WORDS

STAGE_ONE = {
    "MD": "the difference in means by least squares",
    "OR": "the odds ratio from its 2x2 table",
    "RR": "the risk ratio from its 2x2 table",
    "RD": "the risk difference from its 2x2 table",
    "HR": "the hazard ratio by a Cox model with Efron's method for ties",
}
ONE_STAGE = {
    "MD": (
        "a linear mixed model fitted by restricted maximum likelihood, with a separate intercept per trial, the "
        "treatment coded -1/2 and +1/2 with a normally distributed random effect across trials, and a common "
        "residual variance"
    ),
    "OR": (
        "a logistic mixed model fitted by maximum likelihood, with a separate intercept per trial and the treatment "
        "coded -1/2 and +1/2 with a normally distributed random effect across trials"
    ),
    "HR": "a Cox model stratified by trial (a baseline hazard per trial) with Efron's method for ties",
}


def _list(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _variables(spec: dict) -> str:
    """The harmonised variables analysed, as the schema names them."""
    columns = spec["columns"]
    analysed = f"time {columns['time']} and event {columns['event']}" if "time" in columns else columns["outcome"]
    return f"{analysed}, arms from {columns['treatment']}"


def _stage_one(spec: dict) -> str:
    measure = spec["measure"]
    adjust = spec.get("adjust") or []
    if adjust and measure in ("OR", "MD", "HR"):
        model = {"OR": "logistic regression", "MD": "linear regression", "HR": "a Cox model (Efron ties)"}[measure]
        text = f"each trial's {MEASURE_NAMES[measure]} was estimated by {model} adjusted for {_list(adjust)}"
    else:
        text = f"each trial's effect was estimated as {STAGE_ONE[measure]}"
        if adjust:
            text += f" (adjusted for {_list(adjust)})"
    if measure in ("OR", "RR", "RD") and not adjust:
        text += "; 0.5 was added to every cell of a trial with a zero cell" + (
            ""
            if measure == "RD"
            else ", and trials with no events in either arm, or events in every participant, were excluded"
        )
    return text


def _stage_two(spec: dict) -> str:
    measure = spec["measure"]
    scale = f"log {MEASURE_NAMES[measure]}s" if measure in ("OR", "RR", "HR") else f"{MEASURE_NAMES[measure]}s"
    if spec.get("tau2") == "FE":
        text = f"the {scale} were pooled by fixed-effect inverse-variance meta-analysis"
    else:
        text = (
            f"the {scale} were pooled by random-effects inverse-variance meta-analysis, the between-trial variance "
            f"(tau²) estimated by {TAU2_WORDS.get(spec.get('tau2', 'REML'), spec.get('tau2'))}"
        )
    if spec.get("ci") == "hksj":
        text += ", with Hartung-Knapp-Sidik-Jonkman 95% confidence intervals (t with k-1 degrees of freedom)"
    else:
        text += ", with Wald (normal) 95% confidence intervals"
    return text


def paragraph(*, spec: dict, outcome_name: str, prespecified: bool, engine_version: str, k: int | None,
              n_aggregate: int = 0) -> str:  # fmt: skip
    """The methods of the analysis as a reviewer would write them."""
    measure = spec["measure"]
    name = MEASURE_NAMES[measure]
    sentences = []
    if spec["approach"] == "two-stage":
        sentences.append(
            f"A two-stage IPD meta-analysis of {outcome_name} ({name}; {_variables(spec)}): in the first stage, "
            f"{_stage_one(spec)}; "
            f"in the second stage, {_stage_two(spec)}."
        )
        if spec.get("tau2") != "FE":
            sentences.append(
                "The 95% prediction interval uses a t distribution with k-2 degrees of freedom; heterogeneity is "
                "described by tau², I² and Cochran's Q."
            )
        if n_aggregate:
            sentences.append(
                f"The published results of {n_aggregate} trial{'s' if n_aggregate != 1 else ''} without IPD were "
                "pooled beside the IPD trials (log scale for ratios, standard errors from the 95% CIs)."
            )
    else:
        model = ONE_STAGE.get(measure, "a one-stage model")
        adjust = spec.get("adjust") or []
        extra = f", adjusted for {_list(adjust)} with one coefficient per trial" if adjust else ""
        sentences.append(
            f"A one-stage IPD meta-analysis of {outcome_name} ({name}; {_variables(spec)}) by {model}{extra}."
        )
        if measure == "OR":
            quadrature = spec.get("quadrature", 1)
            method = (
                "the Laplace approximation"
                if quadrature == 1
                else f"adaptive Gauss-Hermite quadrature with {quadrature} points"
            )
            sentences.append(
                f"The likelihood was approximated by {method}; trials with no events, or events in every "
                "participant, carry no information on the treatment effect and were left out."
            )
    interaction = spec.get("interaction")
    if interaction:
        if spec["approach"] == "two-stage":
            sentences.append(
                f"The interaction between treatment and {interaction} was estimated within each trial and the "
                "within-trial interactions pooled in the same way (deft approach), so that it uses within-trial "
                "information only."
            )
        else:
            sentences.append(
                f"The interaction between treatment and {interaction} was split into a within-trial part "
                f"({interaction} centred on its trial mean) and an across-trial part (the trial mean), so that "
                "the within-trial estimate is free of ecological bias."
            )
    if k is not None:
        sentences.append(f"{k} trial{'s' if k != 1 else ''} contributed to the pooled estimate.")
    sentences.append(
        ("The analysis was pre-specified in the protocol. " if prespecified else "The analysis was not pre-specified. ")
        + f"Computed with ipdstats {engine_version}."
    )
    return " ".join(sentences)
