"""Automations: when a run's metric or state, or an artifact, matches a filter, send a
notification or a signed webhook. Shaped like ``wandb.automations``::

    from trackwell.automations import OnRunMetric, RunEvent, SendWebhook
    event = OnRunMetric(scope="team/project", filter=RunEvent.metric("loss").mean(5) > 0.5)
    Api().create_automation(event >> SendWebhook.from_integration(hook), name="loss-alert")

Needs pydantic (``pip install 'trackwell[automations]'``; the server extra has it).
"""

from trackwell.automations._actions import DoNothing, SendNotification, SendWebhook
from trackwell.automations._automation import Automation, NewAutomation
from trackwell.automations._base import ActionType, EventType, ScopeType
from trackwell.automations._builders import ArtifactEvent, MetricAgg, MetricVal, RunEvent, ZScore
from trackwell.automations._events import (
    OnAddArtifactAlias,
    OnAddArtifactTag,
    OnCreateArtifact,
    OnLinkArtifact,
    OnRemoveArtifactTag,
    OnRunAlert,
    OnRunMetric,
    OnRunState,
    OnUnlinkArtifact,
)
from trackwell.automations._filters import (
    FilterableField,
    MetricChangeFilter,
    MetricThresholdFilter,
    MetricZScoreFilter,
    MongoFilter,
    RunMetricFilter,
    RunStateFilter,
)
from trackwell.automations._integrations import (
    EmailIntegration,
    Integration,
    SlackIntegration,
    WebhookIntegration,
)
from trackwell.automations._scopes import ArtifactCollectionScope, ProjectScope, RegistryScope
from trackwell.automations._signing import WebhookVerificationError, verify

__all__ = [
    "ActionType", "ArtifactCollectionScope", "ArtifactEvent", "Automation", "DoNothing", "EmailIntegration", "EventType",
    "FilterableField", "Integration", "MetricAgg", "MetricChangeFilter", "MetricThresholdFilter", "MetricVal",
    "MetricZScoreFilter", "MongoFilter", "NewAutomation", "OnAddArtifactAlias", "OnAddArtifactTag",
    "OnCreateArtifact", "OnLinkArtifact", "OnRemoveArtifactTag", "OnRunAlert", "OnRunMetric", "OnRunState", "OnUnlinkArtifact",
    "ProjectScope", "RegistryScope", "RunEvent", "RunMetricFilter", "RunStateFilter", "ScopeType",
    "SendNotification", "SendWebhook", "SlackIntegration", "WebhookIntegration", "WebhookVerificationError",
    "ZScore", "verify",
]
