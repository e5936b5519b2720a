"""Risk early warning: rules evaluated by the tick raise alerts for an agency's duty inbox."""
