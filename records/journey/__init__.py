"""Journey events: the append-only timeline of each customer."""
