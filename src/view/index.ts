export { openView, type OpenViewOptions } from "./open.js";
export { openFleetView, type OpenFleetViewOptions } from "./open-fleet.js";
export { startViewServer, type ViewServer, type ViewServerOptions } from "./server.js";
export { startFleetViewServer, type FleetViewServerOptions } from "./fleet-server.js";
export { layoutGraph, type ViewLayout, type PlacedState, type PlacedTransition } from "./layout.js";
export { eventRows, runSummary, type EventRow, type RunSummary, type FoldedPrefix } from "./run-view.js";
export { JournalFeed, type RunDetail } from "./journal-feed.js";
