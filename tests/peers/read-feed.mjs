// Reads a served feed with feedsmith (a third-party parser from npm) and prints what it understood
// as JSON, in one shape for the three formats: the format it detected, the feed's title and self
// URL, and each item's id, address, title, date and whether it has a body.
// Usage: node read-feed.mjs URL
import { parseFeed } from 'feedsmith';

const response = await fetch(process.argv[2]);
const { format, feed } = parseFeed(await response.text());

const text = (value) => (typeof value === 'object' && value !== null ? value.value ?? null : value ?? null);

function item(entry) {
  switch (format) {
    case 'json':
      return {
        id: entry.id ?? null,
        url: entry.url ?? null,
        title: entry.title ?? null,
        date_published: entry.date_published ?? null,
        has_content: Boolean(entry.content_html || entry.content_text),
      };
    case 'rss':
      return {
        id: text(entry.guid),
        url: entry.link ?? null,
        title: entry.title ?? null,
        date_published: entry.pubDate ?? null,
        has_content: Boolean(entry.description || entry.content?.encoded),
      };
    default: // atom
      return {
        id: entry.id ?? null,
        url: (entry.links ?? []).find((l) => (l.rel ?? 'alternate') === 'alternate')?.href ?? null,
        title: text(entry.title),
        date_published: entry.published ?? entry.updated ?? null,
        has_content: Boolean(text(entry.content) || text(entry.summary)),
      };
  }
}

const selfUrl =
  format === 'json'
    ? feed.feed_url
    : format === 'atom'
      ? (feed.links ?? []).find((l) => l.rel === 'self')?.href
      : feed.atom?.links?.find((l) => l.rel === 'self')?.href;

console.log(
  JSON.stringify({
    format,
    title: text(feed.title),
    feed_url: selfUrl ?? null,
    items: (feed.items ?? feed.entries ?? []).map(item),
  }),
);
