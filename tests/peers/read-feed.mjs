// Reads a served feed with feedsmith (a third-party parser from npm) and prints what it understood
// as JSON: the format it detected, the feed's title and self URL, and each item's fields.
// Usage: node read-feed.mjs URL
import { parseFeed } from 'feedsmith';

const response = await fetch(process.argv[2]);
const text = await response.text();
const { format, feed } = parseFeed(text);
const items = (feed.items ?? feed.entries ?? []).map((item) => ({
  id: item.id ?? null,
  url: item.url ?? null,
  title: item.title ?? null,
  date_published: item.date_published ?? null,
  has_content: Boolean(item.content_html || item.content_text),
}));
console.log(JSON.stringify({ format, title: feed.title ?? null, feed_url: feed.feed_url ?? null, items }));
