#!/usr/bin/env python3
"""Generates tests/fixtures/translations/hard/{en,ru,kk,truth}.json (issue 25): akorda-like
releases in three languages with the cases that misled translation linking before: stock
pictures shared by different releases (`telephone_talk.jpg`, `gerb_rk.jpg`, `akorda_hall.jpg`),
languages numbering their pages independently (an English-only release has the id of a Russian
decree), same-day releases about different countries with no number at all, translations out a
day later, and releases missing in one language. Deterministic: run it again to get the same
files. `python3 scripts/translation_fixtures.py`"""
import json, os, random

R = random.Random(25)
MONTHS = {
    "en": ["", "January", "February", "March", "April", "May", "June"],
    "ru": ["", "января", "февраля", "марта", "апреля", "мая", "июня"],
    "kk": ["", "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым"],
}
COUNTRIES = [
    # en, ru genitive, ru instrumental, kk
    ("France", "Франции", "Францией", "Франция"),
    ("Egypt", "Египта", "Египтом", "Мысыр"),
    ("Germany", "Германии", "Германией", "Германия"),
    ("Italy", "Италии", "Италией", "Италия"),
    ("Spain", "Испании", "Испанией", "Испания"),
    ("Japan", "Японии", "Японией", "Жапония"),
    ("Uzbekistan", "Узбекистана", "Узбекистаном", "Өзбекстан"),
    ("Kyrgyzstan", "Кыргызстана", "Кыргызстаном", "Қырғызстан"),
    ("Azerbaijan", "Азербайджана", "Азербайджаном", "Әзербайжан"),
    ("Qatar", "Катара", "Катаром", "Катар"),
    ("Hungary", "Венгрии", "Венгрией", "Венгрия"),
    ("Mongolia", "Монголии", "Монголией", "Моңғолия"),
]

def date(lang, day):
    m = 4
    if lang == "en":
        return f"{day} {MONTHS['en'][m]} 2026"
    if lang == "ru":
        return f"{day} {MONTHS['ru'][m]} 2026 года"
    return f"{day} {MONTHS['kk'][m]} 2026 ж."

def call(c, lang, numbers):
    en, ru_gen, ru_ins, kk = COUNTRIES[c]
    extra = {"en": "", "ru": "", "kk": ""}
    if numbers:
        a, b = numbers
        extra = {
            "en": f"\n\nThe sides noted that trade reached {a} billion dollars and agreed on {b} joint projects.",
            "ru": f"\n\nСтороны отметили, что товарооборот достиг {a.replace('.', ',')} млрд долларов, и договорились о {b} совместных проектах.",
            "kk": f"\n\nТараптар тауар айналымы {a.replace('.', ',')} млрд долларға жеткенін атап өтіп, {b} бірлескен жоба туралы уағдаласты.",
        }
    return {
        "en": (f"Head of State holds telephone conversation with President of {en}",
               f"President Kassym-Jomart Tokayev held a telephone conversation with the President of {en}. The sides discussed bilateral cooperation and the international agenda." + extra["en"]),
        "ru": (f"Глава государства провёл телефонный разговор с Президентом {ru_gen}",
               f"Президент Касым-Жомарт Токаев провёл телефонный разговор с Президентом {ru_gen}. Стороны обсудили двустороннее сотрудничество и международную повестку." + extra["ru"]),
        "kk": (f"Мемлекет басшысы {kk} Президентімен телефон арқылы сөйлесті",
               f"Президент Қасым-Жомарт Тоқаев {kk} Президентімен телефон арқылы сөйлесті. Тараптар екіжақты ынтымақтастық пен халықаралық күн тәртібін талқылады." + extra["kk"]),
    }[lang]

def ambassador(c, lang, n):
    en, ru_gen, ru_ins, kk = COUNTRIES[c]
    return {
        "en": (f"President receives Ambassador of {en}",
               f"Kassym-Jomart Tokayev received the Ambassador of {en}. The meeting reviewed {n} agreements signed since 2019." if n else f"Kassym-Jomart Tokayev received the Ambassador of {en}. The parties discussed cultural and humanitarian ties."),
        "ru": (f"Президент принял Посла {ru_gen}",
               f"Касым-Жомарт Токаев принял Посла {ru_gen}. Рассмотрены {n} соглашений, подписанных с 2019 года." if n else f"Касым-Жомарт Токаев принял Посла {ru_gen}. Стороны обсудили культурно-гуманитарные связи."),
        "kk": (f"Президент {kk} Елшісін қабылдады",
               f"Қасым-Жомарт Тоқаев {kk} Елшісін қабылдады. 2019 жылдан бері қол қойылған {n} келісім қаралды." if n else f"Қасым-Жомарт Тоқаев {kk} Елшісін қабылдады. Тараптар мәдени-гуманитарлық байланыстарды талқылады."),
    }[lang]

def decree(k, lang):
    names = ["A. Smagulov", "B. Zhaksylykov", "D. Nurtayev", "E. Sadykova", "G. Ospanov", "K. Temirbek"]
    n = names[k % len(names)]
    return {
        "en": (f"Decree of the Head of State on the appointment of {n}", f"By Decree of the Head of State, {n} has been appointed to a new post."),
        "ru": (f"Указ Главы государства о назначении {n}", f"Указом Главы государства {n} назначен на новую должность."),
        "kk": (f"Мемлекет басшысының {n} тағайындау туралы Жарлығы", f"Мемлекет басшысының Жарлығымен {n} жаңа қызметке тағайындалды."),
    }[lang]

def meeting(k, lang, nums):
    a, b = nums
    topics = [("the Minister of Energy", "Министра энергетики", "Энергетика министрін"),
              ("the Akim of Almaty", "акима Алматы", "Алматы әкімін"),
              ("the Chairman of the National Bank", "Председателя Национального банка", "Ұлттық банк төрағасын"),
              ("the Minister of Education", "Министра просвещения", "Оқу-ағарту министрін"),
              ("the Head of Samruk-Kazyna", "Председателя правления Самрук-Казына", "Самұрық-Қазына басқарма төрағасын")]
    en, ru, kk = topics[k % len(topics)]
    return {
        "en": (f"President receives {en}", f"The Head of State was briefed on {a} investment projects worth {b} billion tenge."),
        "ru": (f"Президент принял {ru}", f"Главе государства доложили о {a} инвестиционных проектах на сумму {b} млрд тенге."),
        "kk": (f"Президент {kk} қабылдады", f"Мемлекет басшысына жалпы сомасы {b} млрд теңге болатын {a} инвестициялық жоба туралы баяндалды."),
    }[lang]

out = {"en": [], "ru": [], "kk": []}
truth = []
# Independent numbering: each language counts its own pages.
next_id = {"en": 871000, "ru": 912290, "kk": 905000}
serial = 0

def add(row_langs, day_of, make, image_of, note):
    """row_langs: languages that publish it; day_of(lang): its day; make(lang): (title, text)."""
    global serial
    serial += 1
    row = {"en": None, "ru": None, "kk": None, "note": note}
    for lang in ["en", "ru", "kk"]:
        if lang not in row_langs:
            continue
        rid = next_id[lang]
        next_id[lang] += R.choice([1, 1, 2, 3])
        title, text = make(lang)
        d = day_of(lang)
        out[lang].append({
            "id": rid, "slug": f"hard-{lang}-{serial:02d}", "date": date(lang, d), "day": d,
            "title": title, "image": image_of(lang), "text": text,
        })
        row[lang] = rid
    truth.append(row)

ALL = ["en", "ru", "kk"]
stock_call = lambda lang: "/uploadMedia/2026/stock/telephone_talk.jpg"
gerb = lambda lang: "/uploadMedia/2026/stock/gerb_rk.jpg"
hall = lambda lang: "/assets/media/akorda_hall.jpg"

for day in range(1, 13):
    same = lambda lang, d=day: d
    # Phone calls on the stock picture: most days, no numbers; different countries by language
    # on some days (the other language's version of each comes a day later or never).
    c1, c2 = (2 * day) % len(COUNTRIES), (2 * day + 1) % len(COUNTRIES)
    if day % 3 == 1:
        # en: France-like call today; ru: Egypt-like call today; each one's translation is late.
        add(ALL, lambda l, d=day: d if l == "en" else d + 1, lambda l, c=c1: call(c, l, None), stock_call,
            "stock picture, no numbers; ru/kk a day later")
        add(["ru", "kk"], same, lambda l, c=c2: call(c, l, None), stock_call,
            "stock picture, no numbers, another country the same day; no English")
    elif day % 3 == 2:
        add(ALL, same, lambda l, c=c1: call(c, l, None), stock_call, "stock picture, no numbers")
        add(ALL, same, lambda l, c=c2: call(c, l, (f"{day + 1}.{day % 7 + 1}", str(day + 20))), stock_call,
            "stock picture, numbers")
    else:
        add(ALL, same, lambda l, c=c1: call(c, l, (f"{day}.{day % 5 + 2}", str(day + 30))), stock_call,
            "stock picture, numbers")
    # Ambassadors: own picture each (shot that day), sometimes no numbers.
    a = (day + 5) % len(COUNTRIES)
    n = None if day % 2 else str(10 + day)
    add(ALL if day % 4 else ["en", "ru"], same, lambda l, c=a, n=n: ambassador(c, l, n),
        lambda l, d=day: f"/uploadMedia/2026/04/ambassador_{d:02d}.jpg",
        "own picture" + (", no numbers" if n is None else ""))
    # Decrees: coat of arms, no numbers, two a day on even days.
    for k in range(1 + day % 2):
        add(ALL, same, lambda l, k=k + day: decree(k, l), gerb, "coat of arms, no numbers")
    # Meetings in the hall: generic picture of the hall, numbers.
    if day % 2 == 0:
        add(ALL, same, lambda l, k=day: meeting(k, l, (str(day + 40), f"{day * 3}.{day % 9 + 1}")), hall,
            "hall picture, numbers")
    # A release in English only, with its own picture the same day as a Russian decree.
    if day % 5 == 0:
        add(["en"], same, lambda l, d=day: (f"Head of State visits the Astana International Forum, day {d}",
                                            "The Head of State toured the exhibition of the forum."),
            lambda l, d=day: f"/uploadMedia/2026/04/forum_{d}.jpg", "English only")

# Independent ids: make one English-only release carry the id of a Russian decree of its day.
ru_decrees = [r for r in out["ru"] if "gerb_rk" in (r["image"] or "")]
en_only = [r for r in out["en"] if "forum_" in (r["image"] or "")]
for e in en_only:
    twin = next(r for r in ru_decrees if r["day"] == e["day"])
    old = e["id"]
    e["id"] = twin["id"]
    for row in truth:
        if row["en"] == old:
            row["en"] = twin["id"]
# ids stay unique per language; check.
for lang in ALL:
    ids = [r["id"] for r in out[lang]]
    assert len(ids) == len(set(ids)), lang
here = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "translations", "hard")
os.makedirs(here, exist_ok=True)
for lang in ALL:
    with open(os.path.join(here, f"{lang}.json"), "w") as f:
        json.dump(out[lang], f, ensure_ascii=False, indent=1)
with open(os.path.join(here, "truth.json"), "w") as f:
    json.dump(truth, f, ensure_ascii=False, indent=1)
print({l: len(out[l]) for l in ALL}, len(truth), "rows")
