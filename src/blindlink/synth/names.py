"""Name pools for the synthetic generator, as plain Python data.

Why hand-curated data: linkage between agencies fails on *real* naming practice -- the same
Arabic, Cyrillic, Ge'ez, Thai, Han or Devanagari name written natively by one agency and
romanised three different ways by others, Spanish double surnames, Vietnamese middle names,
Ethiopian father's-name-as-surname -- so the generator must draw from real names in their
real spellings, not from random strings.

Entry syntax (one entry per ``;`` or line break inside a block):

* ``native|Roman1,Roman2,...`` for origins with a non-Latin script: the native-script form,
  then 1-4 romanisations, the most common first.
* ``Canonical,Variant,...`` for Latin-script origins: the correctly accented spelling first,
  then spelling variants. Accent-stripped forms are *not* listed; the generator derives them.

Blocks are listed roughly in order of popularity: the generator gives rank ``r`` a Zipf-like
weight, so the first entries repeat often and the tail is rare.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from blindlink.synth.translit import russian_romanisations, ukrainian_romanisations

#: One parsed entry: (native-script form or None, romanisations with the canonical one first).
Entry = tuple[str | None, tuple[str, ...]]


def parse_entries(block: str) -> tuple[Entry, ...]:
    """Parse a data block into entries (see the module docstring for the syntax)."""
    out: list[Entry] = []
    for raw in re.split(r"[;\n]", block):
        item = raw.strip()
        if not item:
            continue
        native: str | None
        if "|" in item:
            head, roms = item.split("|", 1)
            native = head.strip() or None
        else:
            native, roms = None, item
        variants = tuple(v.strip() for v in roms.split(",") if v.strip())
        if not variants:
            raise ValueError(f"name entry without a romanisation: {item!r}")
        out.append((native, variants))
    return tuple(out)


@dataclass(frozen=True)
class OriginData:
    """Everything the generator needs to invent people of one origin.

    ``second`` describes an optional extra name part a person may have and how it is used:
    ``"given"`` (a second given name), ``"father"`` (father's given name, drawn from the male
    pool), ``"pool"`` (from ``middle_m``/``middle_f``: patronymics, Vietnamese middle names,
    Nepali ``Kumar``/``Devi``) or ``"family"`` (mother's maiden surname, Filipino style).
    ``second_prob`` is the share of persons who have one; ``second_canonical`` the share of
    those whose usual (canonical) name includes it -- for the others it is a part that some
    agencies *add* (a corruption), for the former a part that some agencies *drop*.
    """

    key: str
    weight: float
    script: str | None
    nationalities: tuple[tuple[str, float], ...]
    transit: tuple[str, ...]
    given_m: tuple[Entry, ...]
    given_f: tuple[Entry, ...]
    family: tuple[Entry, ...]
    zipf: float = 1.0
    family_first: bool = False
    native_joiner: str = " "
    family_from_father: bool = False
    feminize: str | None = None
    second: str | None = None
    second_pos: str = "given_after"
    second_prob: float = 0.0
    second_canonical: float = 0.0
    second_joiner: str = " "
    middle_m: tuple[Entry, ...] = ()
    middle_f: tuple[Entry, ...] = ()
    family2_prob: float = 0.0
    nicknames: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    free_nick_m: tuple[Entry, ...] = ()
    free_nick_f: tuple[Entry, ...] = ()
    free_nick_prob: float = 0.0
    nick_factor: float = 1.0


def _nick(block: str) -> dict[str, tuple[Entry, ...]]:
    """``Canonical=native|Nick,Nick2 / native|Nick`` lines -> {canonical: nickname entries}."""
    out: dict[str, tuple[Entry, ...]] = {}
    for line in block.strip().splitlines():
        if not line.strip():
            continue
        key, rest = line.split("=", 1)
        out[key.strip()] = parse_entries(rest.replace("/", ";"))
    return out


def _auto(block: str, romanise: Callable[[str], tuple[str, ...]]) -> tuple[Entry, ...]:
    """Native-script names whose romanisations are derived by rule (see ``translit``)."""
    return tuple((w, romanise(w)) for w in block.split())


def _merge(*groups: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """Concatenate entry lists, keeping the first of entries with the same native or
    canonical form (the tail lists may repeat a name of the curated head)."""
    seen: set[str] = set()
    out: list[Entry] = []
    for group in groups:
        for native, variants in group:
            key = native if native is not None else variants[0]
            if key in seen:
                continue
            seen.add(key)
            out.append((native, variants))
    return tuple(out)


def _compounds(
    heads: tuple[tuple[str, tuple[str, ...]], ...], tails: tuple[tuple[str, str], ...]
) -> tuple[Entry, ...]:
    """Ge'ez theophoric names: ``ገብረ`` + ``ማርያም`` = ``ገብረማርያም`` (Gebremariam,
    Gebre Mariam, Ghebremariam). Heads carry their spelling variants, tails one spelling."""
    out: list[Entry] = []
    for tail_native, tail in tails:
        for head_native, head in heads:
            joined = head[0] + tail.lower()
            spaced = f"{head[0]} {tail}"
            alt = (head[1] if len(head) > 1 else head[0]) + tail.lower()
            variants = tuple(dict.fromkeys((joined, spaced, alt)))
            out.append((head_native + tail_native, variants))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Arabic (Levant, Iraq, Egypt, Sudan, Maghreb, Yemen)
# --------------------------------------------------------------------------------------------

_ARABIC_M = """
محمد|Mohammed,Muhammad,Mohamed,Mohamad; أحمد|Ahmed,Ahmad,Ahmet; علي|Ali,Aly
محمود|Mahmoud,Mahmud,Mahmood; عمر|Omar,Umar,Omer; حسن|Hassan,Hasan
حسين|Hussein,Hussain,Husain,Hossein; خالد|Khaled,Khalid; يوسف|Youssef,Yusuf,Yousef,Youssouf
عبد الله|Abdullah,Abdallah,Abd Allah,Abdulla; إبراهيم|Ibrahim,Ebrahim,Brahim
مصطفى|Mustafa,Moustafa,Mostafa; عبد الرحمن|Abdul Rahman,Abdulrahman,Abdelrahman,Abd al-Rahman
سعيد|Said,Saeed,Saied; كريم|Karim,Kareem; طارق|Tariq,Tarek,Tarik; سامي|Sami,Samy
ياسر|Yasser,Yasir,Yaser; عماد|Imad,Emad; فادي|Fadi,Fady; وليد|Walid,Waleed
جمال|Jamal,Gamal,Djamel; رامي|Rami,Ramy; زياد|Ziad,Ziyad,Zeyad; بلال|Bilal,Belal
حمزة|Hamza,Hamzah; أنس|Anas; إسماعيل|Ismail,Ismael,Esmail; عادل|Adel,Adil
نبيل|Nabil,Nabeel; هشام|Hisham,Hicham,Hesham; مراد|Murad,Mourad
سليمان|Suleiman,Sulaiman,Soliman,Slimane; عبد العزيز|Abdulaziz,Abdel Aziz,Abd al-Aziz
ماجد|Majid,Maged,Majed; ناصر|Nasser,Nasir,Naser; فيصل|Faisal,Faysal
رشيد|Rashid,Rachid,Rasheed; أيمن|Ayman,Aymen; صالح|Saleh,Salih; صلاح|Salah,Salaheddine
منصور|Mansour,Mansur; عثمان|Othman,Osman,Uthman; جعفر|Jafar,Jaafar; هاني|Hani,Hany
عمار|Ammar,Amar; باسل|Basel,Basil; قاسم|Qasim,Kassem,Kasim; أسامة|Osama,Usama,Oussama
"""

_ARABIC_F = """
فاطمة|Fatima,Fatma,Fatimah,Fatemeh; مريم|Maryam,Mariam,Meriem; عائشة|Aisha,Aicha,Ayesha,Aysha
زينب|Zainab,Zeinab,Zaynab; نور|Nour,Noor,Nur; سارة|Sara,Sarah; خديجة|Khadija,Khadidja,Khadijah
ليلى|Layla,Leila,Laila,Leyla; هدى|Huda,Houda,Hoda; أمل|Amal; رنا|Rana
ياسمين|Yasmin,Yasmine,Jasmin; سلمى|Salma,Selma; هبة|Heba,Hiba; دعاء|Doaa,Duaa,Dua
آية|Aya,Ayah; رحمة|Rahma,Rahmah; أسماء|Asma,Asmaa; إيمان|Iman,Eman,Imane
سمية|Sumaya,Soumaya,Somaya; حنان|Hanan; منى|Mona,Muna; رشا|Rasha,Racha; لينا|Lina,Leena
نادية|Nadia,Nadiya; سميرة|Samira,Sameera; وفاء|Wafaa,Wafa; سعاد|Souad,Suad,Soad; غادة|Ghada
دينا|Dina; شيماء|Shaimaa,Chaimae,Shaima; ريم|Reem,Rim; حليمة|Halima,Halimah
جميلة|Jamila,Djamila,Jameela; نجلاء|Najla,Naglaa; لمى|Lama; رقية|Ruqaya,Roukaya,Ruqayyah
سناء|Sanaa,Sana; هالة|Hala; مروة|Marwa,Marwah; بشرى|Bushra,Bouchra
نسرين|Nisreen,Nesrine,Nasrin; عبير|Abeer,Abir; إسراء|Israa,Esraa,Isra; ملك|Malak; جنى|Jana
"""

_ARABIC_FAMILY = """
الحسن|Al-Hassan,El Hassan,Alhasan,Al Hasan; الأحمد|Al-Ahmad,Al Ahmed,Alahmad
العلي|Al-Ali,El Ali,Alali; حسن|Hassan,Hasan; محمد|Mohammed,Mohamed,Muhammad
إبراهيم|Ibrahim,Ebrahim; عبد الله|Abdullah,Abdallah,Abdalla
الخطيب|Al-Khatib,El Khatib,Alkhateeb; المصري|Al-Masri,El Masry,Almasri
الشامي|Al-Shami,Al Chami,Alshami; حداد|Haddad; النجار|Al-Najjar,El Naggar,Alnajjar
الحسيني|Al-Husseini,El Husseini,Alhusaini; التميمي|Al-Tamimi,Al Tamimi,Altamimi
الزعبي|Al-Zoubi,Al Zuabi,Alzoubi; السيد|El Sayed,Al-Sayed,Elsayed; يوسف|Youssef,Yousef,Yusuf
عثمان|Osman,Othman; سليمان|Suleiman,Soliman; الجبوري|Al-Jubouri,Al Jabouri,Aljuboori
الدليمي|Al-Dulaimi,Al Duleimi,Aldulaimi; العبيدي|Al-Obaidi,Al Ubaidi,Alobaidi
البغدادي|Al-Baghdadi,El Baghdadi; الحلبي|Al-Halabi,Halabi,Alhalabi
الخوري|Khoury,El Khoury,Al-Khouri; منصور|Mansour,Mansur; عيسى|Issa,Eissa,Isa
موسى|Moussa,Musa,Mousa; صالح|Saleh,Salih; عمر|Omar,Umar; العمري|Al-Omari,El Omari,Alomari
قاسم|Kassem,Qassem,Qasim; بن علي|Ben Ali,Benali,Bin Ali; العلوي|Alaoui,El Alaoui,Al-Alawi
الإدريسي|El Idrissi,Idrissi,Al-Idrisi; بوزيد|Bouzid,Bou Zid; بن سالم|Ben Salem,Bensalem,Bin Salim
عبد الرحمن|Abdelrahman,Abdul Rahman,Abdulrahman; الشريف|El Sherif,Al-Sharif,Cherif
نصر|Nasr,Nassr; درويش|Darwish,Derwich,Darwiche; الأسعد|Al-Asaad,Al Assad,Alasaad
جابر|Jaber,Jabir,Gaber; الكردي|Al-Kurdi,Kurdi,El Kurdi; حمدان|Hamdan; سعيد|Said,Saeed
الهاشمي|Al-Hashimi,El Hachemi,Alhashemi; عبد الكريم|Abdulkarim,Abdel Karim,Abd al-Karim
"""

_ARABIC_NICK = """
Mohammed=حمودي|Hamoudi,Hamudi / |Mo
Abdullah=عبود|Abboud,Abood
Abdul Rahman=عبده|Abdo,Abduh
Fatima=فطوم|Fattoum,Fatoum
"""

# --------------------------------------------------------------------------------------------
# Ukrainian (Ukrainian Cyrillic; national, Russian-style, Polish/German-style romanisations)
# --------------------------------------------------------------------------------------------

_UKR_M = """
Олександр|Oleksandr,Aleksandr,Alexander,Oleksander; Андрій|Andrii,Andriy,Andrey,Andrij
Сергій|Serhii,Serhiy,Sergey,Sergii; Володимир|Volodymyr,Vladimir,Wolodymyr
Дмитро|Dmytro,Dmitro,Dmitry; Олег|Oleh,Oleg; Юрій|Yurii,Yuriy,Iurii,Juri
Віктор|Viktor,Victor; Микола|Mykola,Nikolai,Mikola; Іван|Ivan; Максим|Maksym,Maxim,Maksim
Василь|Vasyl,Vasil,Vasiliy; Богдан|Bohdan,Bogdan; Тарас|Taras
Олексій|Oleksii,Oleksiy,Alexey,Aleksei; Михайло|Mykhailo,Mikhail,Mykhaylo,Mychajlo
Віталій|Vitalii,Vitaliy,Vitaly; Ігор|Ihor,Igor; Роман|Roman; Петро|Petro,Pyotr,Petr
Євген|Yevhen,Ievgen,Evgeny,Yevgeniy; Артем|Artem,Artyom; Денис|Denys,Denis
Анатолій|Anatolii,Anatoliy; Павло|Pavlo,Pavel; Руслан|Ruslan
Ярослав|Yaroslav,Iaroslav,Jaroslaw; Степан|Stepan; Костянтин|Kostiantyn,Kostyantyn,Konstantin
Валерій|Valerii,Valeriy,Valery; Григорій|Hryhorii,Hryhoriy,Grigory
Владислав|Vladyslav,Vladislav; Назар|Nazar; Вадим|Vadym,Vadim; Ілля|Illia,Illya,Ilya
Кирило|Kyrylo,Kirill,Kyrilo; Антон|Anton; Станіслав|Stanislav; Федір|Fedir,Fyodor,Fedor
Микита|Mykyta,Nikita; Остап|Ostap
"""

_UKR_F = """
Наталія|Nataliia,Nataliya,Natalia,Natalya; Олена|Olena,Elena,Alena,Yelena
Тетяна|Tetiana,Tetyana,Tatiana,Tatyana; Ірина|Iryna,Irina; Світлана|Svitlana,Svetlana
Юлія|Yuliia,Yuliya,Iuliia,Julia; Оксана|Oksana; Людмила|Liudmyla,Lyudmyla,Ludmila,Lyudmila
Марія|Mariia,Mariya,Maria; Ольга|Olha,Olga; Галина|Halyna,Galina; Анна|Anna
Катерина|Kateryna,Ekaterina,Katerina,Yekaterina; Валентина|Valentyna,Valentina
Вікторія|Viktoriia,Viktoriya,Victoria; Анастасія|Anastasiia,Anastasiya,Anastasia
Ганна|Hanna,Ganna,Anna; Лариса|Larysa,Larisa; Надія|Nadiia,Nadiya,Nadia
Любов|Liubov,Lyubov; Алла|Alla; Інна|Inna; Віра|Vira,Vera; Дарина|Daryna,Darina
Софія|Sofiia,Sofiya,Sofia; Христина|Khrystyna,Christina,Kristina; Ніна|Nina
Лілія|Liliia,Liliya,Lilia; Аліна|Alina; Валерія|Valeriia,Valeriya,Valeria; Зоя|Zoia,Zoya
Раїса|Raisa; Євгенія|Yevheniia,Yevgeniya,Evgenia; Яна|Yana,Iana; Діана|Diana
Маргарита|Marharyta,Margarita; Уляна|Uliana,Ulyana; Мирослава|Myroslava,Miroslava
Поліна|Polina; Вероніка|Veronika; Тамара|Tamara
"""

_UKR_FAMILY = """
Мельник|Melnyk,Melnik,Mielnik; Шевченко|Shevchenko,Ševčenko,Schewtschenko,Chevtchenko
Коваленко|Kovalenko,Kowalenko; Бондаренко|Bondarenko; Бойко|Boiko,Boyko
Ткаченко|Tkachenko,Tkačenko; Кравченко|Kravchenko,Kravčenko,Krawtschenko
Ковальчук|Kovalchuk,Kowalczuk,Kovalčuk; Коваль|Koval,Kowal; Олійник|Oliinyk,Oliynyk,Olejnik
Шевчук|Shevchuk,Ševčuk; Поліщук|Polishchuk,Polischuk,Poliščuk; Бондар|Bondar
Ткачук|Tkachuk,Tkačuk; Марченко|Marchenko,Marčenko; Лисенко|Lysenko,Lisenko
Руденко|Rudenko; Савченко|Savchenko,Savčenko; Петренко|Petrenko; Мороз|Moroz
Клименко|Klymenko,Klimenko; Павленко|Pavlenko; Кравчук|Kravchuk,Kravčuk
Кузьменко|Kuzmenko; Пономаренко|Ponomarenko; Савчук|Savchuk,Savčuk; Романенко|Romanenko
Василенко|Vasylenko,Vasilenko; Левченко|Levchenko,Levčenko
Харченко|Kharchenko,Charchenko,Harčenko; Карпенко|Karpenko
Гончаренко|Honcharenko,Goncharenko,Hončarenko; Литвиненко|Lytvynenko,Litvinenko; Мазур|Mazur
Ковальов|Kovalov,Kovalev,Kovalyov; Гаврилюк|Havryliuk,Gavrilyuk,Havrylyuk
Захарченко|Zakharchenko,Zaharchenko; Іваненко|Ivanenko; Кириленко|Kyrylenko,Kirilenko
Приходько|Prykhodko,Prikhodko,Prychodko; Симоненко|Symonenko,Simonenko
Кушнір|Kushnir,Kušnir; Швець|Shvets,Švec,Schwez; Юрченко|Yurchenko,Iurchenko,Jurchenko
Яковенко|Yakovenko,Iakovenko; Білик|Bilyk,Bilik; Ковтун|Kovtun
Гриценко|Hrytsenko,Gritsenko,Hrycenko; Степаненко|Stepanenko; Костенко|Kostenko
Ярошенко|Yaroshenko,Jarošenko; Савицький|Savytskyi,Savitsky,Sawicki
Вишневський|Vyshnevskyi,Vishnevsky,Wiszniewski
"""

_UKR_PATRONYMIC_M = """
Олександрович|Oleksandrovych,Aleksandrovich; Іванович|Ivanovych,Ivanovich
Васильович|Vasylovych,Vasilyevich; Миколайович|Mykolaiovych,Mykolayovych,Nikolaevich
Володимирович|Volodymyrovych,Vladimirovich; Петрович|Petrovych,Petrovich
Михайлович|Mykhailovych,Mikhailovich; Сергійович|Serhiiovych,Serhiyovych,Sergeevich
Вікторович|Viktorovych,Viktorovich; Анатолійович|Anatoliiovych,Anatolievich
Юрійович|Yuriiovych,Yurievich; Григорович|Hryhorovych,Grigorievich
"""

_UKR_PATRONYMIC_F = """
Олександрівна|Oleksandrivna,Aleksandrovna; Іванівна|Ivanivna,Ivanovna
Василівна|Vasylivna,Vasilyevna; Миколаївна|Mykolaivna,Nikolaevna
Володимирівна|Volodymyrivna,Vladimirovna; Петрівна|Petrivna,Petrovna
Михайлівна|Mykhailivna,Mikhailovna; Сергіївна|Serhiivna,Sergeevna
Вікторівна|Viktorivna,Viktorovna; Анатоліївна|Anatoliivna,Anatolievna
Юріївна|Yuriivna,Yurievna; Григорівна|Hryhorivna,Grigorievna
"""

_UKR_NICK = """
Oleksandr=Сашко|Sashko / Саша|Sasha
Nataliia=Наталка|Natalka / Наташа|Natasha
Tetiana=Таня|Tania,Tanya
Kateryna=Катя|Katia,Katya
Iryna=Іра|Ira
Olena=Лена|Lena
Dmytro=Діма|Dima
Volodymyr=Вова|Vova
Anastasiia=Настя|Nastia,Nastya
Mariia=Маша|Masha
Oleksii=Льоша|Lyosha,Liosha
Yevhen=Женя|Zhenia,Zhenya
"""

# --------------------------------------------------------------------------------------------
# Russian and other Russian-speaking (Russian Cyrillic)
# --------------------------------------------------------------------------------------------

_RUS_M = """
Александр|Aleksandr,Alexander,Alexandr,Aleksander; Сергей|Sergei,Sergey,Serguei
Дмитрий|Dmitry,Dmitrii,Dmitriy; Андрей|Andrei,Andrey; Алексей|Aleksei,Alexey,Alexei,Aleksey
Максим|Maksim,Maxim; Евгений|Evgeny,Yevgeny,Evgenii,Evgeniy; Иван|Ivan
Михаил|Mikhail,Michail,Mihail; Артём|Artyom,Artem,Artiom; Николай|Nikolai,Nikolay
Владимир|Vladimir,Wladimir; Денис|Denis; Павел|Pavel; Роман|Roman; Игорь|Igor; Олег|Oleg
Виктор|Viktor,Victor; Владислав|Vladislav; Антон|Anton; Кирилл|Kirill,Kiril
Юрий|Yuri,Yury,Iurii,Juri; Никита|Nikita; Илья|Ilya,Ilia,Ilja; Вадим|Vadim
Константин|Konstantin,Constantin; Руслан|Ruslan; Егор|Egor,Yegor
Василий|Vasily,Vasilii,Vasiliy; Пётр|Pyotr,Petr,Piotr; Георгий|Georgy,Georgii,Georgiy
Григорий|Grigory,Grigorii; Станислав|Stanislav; Тимур|Timur; Валерий|Valery,Valerii,Valeriy
Анатолий|Anatoly,Anatolii; Борис|Boris; Фёдор|Fyodor,Fedor,Fiodor; Леонид|Leonid
Даниил|Daniil,Daniel; Геннадий|Gennady,Gennadii; Вячеслав|Vyacheslav,Viacheslav
"""

_RUS_F = """
Елена|Elena,Yelena,Jelena; Ольга|Olga; Наталья|Natalya,Natalia,Natalja
Татьяна|Tatyana,Tatiana,Tatjana; Ирина|Irina; Светлана|Svetlana
Екатерина|Ekaterina,Yekaterina,Katerina; Анна|Anna; Мария|Maria,Mariya
Юлия|Yulia,Yuliya,Julia,Iuliia; Анастасия|Anastasia,Anastasiya,Anastasija; Марина|Marina
Людмила|Lyudmila,Ludmila,Liudmila; Галина|Galina; Дарья|Darya,Daria,Dariya
Ксения|Ksenia,Kseniya,Xenia; Евгения|Evgenia,Yevgeniya,Evgeniya; Надежда|Nadezhda,Nadejda
Валентина|Valentina; Оксана|Oksana; Виктория|Viktoria,Victoria,Viktoriya; Алина|Alina
Кристина|Kristina,Christina; Полина|Polina; Любовь|Lyubov,Liubov; Алёна|Alyona,Alena,Aliona
Вера|Vera; Лариса|Larisa; Нина|Nina; Валерия|Valeria,Valeriya; Софья|Sofya,Sofia,Sofiya
Елизавета|Elizaveta,Yelizaveta; Александра|Aleksandra,Alexandra; Диана|Diana
Вероника|Veronika; Маргарита|Margarita; Яна|Yana,Jana; Тамара|Tamara; Зинаида|Zinaida
Кира|Kira
"""

_RUS_FAMILY = """
Иванов|Ivanov,Ivanoff; Смирнов|Smirnov,Smirnoff; Кузнецов|Kuznetsov,Kuznecov,Kusnezow
Попов|Popov,Popow; Васильев|Vasilyev,Vasiliev,Vasilev; Петров|Petrov,Petrow; Соколов|Sokolov
Михайлов|Mikhailov,Mihailov,Michailow; Новиков|Novikov; Фёдоров|Fyodorov,Fedorov
Морозов|Morozov; Волков|Volkov,Wolkow; Алексеев|Alekseev,Alexeev,Alekseyev; Лебедев|Lebedev
Семёнов|Semyonov,Semenov; Егоров|Egorov,Yegorov; Павлов|Pavlov; Козлов|Kozlov
Степанов|Stepanov; Николаев|Nikolaev,Nikolayev; Орлов|Orlov; Андреев|Andreev,Andreyev
Макаров|Makarov; Никитин|Nikitin; Захаров|Zakharov,Zaharov; Зайцев|Zaitsev,Zaytsev,Saizew
Соловьёв|Solovyov,Soloviev,Solovyev; Борисов|Borisov; Яковлев|Yakovlev,Iakovlev
Григорьев|Grigoryev,Grigoriev; Романов|Romanov; Воробьёв|Vorobyov,Vorobiev
Сергеев|Sergeev,Sergeyev; Кузьмин|Kuzmin; Фролов|Frolov; Александров|Aleksandrov,Alexandrov
Дмитриев|Dmitriev,Dmitriyev; Королёв|Korolyov,Korolev; Гусев|Gusev
Киселёв|Kiselyov,Kiselev; Ильин|Ilyin,Ilin,Iljin; Максимов|Maksimov,Maximov
Поляков|Polyakov,Poliakov; Сорокин|Sorokin; Виноградов|Vinogradov; Ковалёв|Kovalyov,Kovalev
Белов|Belov; Медведев|Medvedev; Антонов|Antonov; Тарасов|Tarasov
Жуков|Zhukov,Joukov,Schukow; Баранов|Baranov; Шестаков|Shestakov,Šestakov
Шаповалов|Shapovalov,Šapovalov; Чернов|Chernov,Černov,Tschernow
Островский|Ostrovsky,Ostrovskiy,Ostrovskii; Покровский|Pokrovsky,Pokrovskiy
"""

_RUS_PATRONYMIC_M = """
Александрович|Aleksandrovich,Alexandrovich; Сергеевич|Sergeevich,Sergeyevich
Владимирович|Vladimirovich; Андреевич|Andreevich,Andreyevich
Алексеевич|Alekseevich,Alexeyevich; Николаевич|Nikolaevich,Nikolayevich
Викторович|Viktorovich; Иванович|Ivanovich; Михайлович|Mikhailovich,Mikhaylovich
Юрьевич|Yurievich,Yuryevich; Евгеньевич|Evgenievich,Yevgenyevich
Дмитриевич|Dmitrievich,Dmitriyevich; Олегович|Olegovich; Игоревич|Igorevich
"""

_RUS_PATRONYMIC_F = """
Александровна|Aleksandrovna,Alexandrovna; Сергеевна|Sergeevna,Sergeyevna
Владимировна|Vladimirovna; Андреевна|Andreevna,Andreyevna; Алексеевна|Alekseevna
Николаевна|Nikolaevna,Nikolayevna; Викторовна|Viktorovna; Ивановна|Ivanovna
Михайловна|Mikhailovna; Юрьевна|Yurievna,Yuryevna; Евгеньевна|Evgenievna
Дмитриевна|Dmitrievna; Олеговна|Olegovna; Игоревна|Igorevna
"""

_RUS_NICK = """
Aleksandr=Саша|Sasha,Sacha
Aleksandra=Саша|Sasha,Sacha
Aleksei=Лёша|Lyosha,Alyosha
Dmitry=Дима|Dima
Mikhail=Миша|Misha
Sergei=Серёжа|Seryozha,Serezha
Ivan=Ваня|Vanya
Nikolai=Коля|Kolya
Vladimir=Вова|Vova / Володя|Volodya
Evgeny=Женя|Zhenya
Natalya=Наташа|Natasha
Tatyana=Таня|Tanya
Ekaterina=Катя|Katya
Maria=Маша|Masha
Anastasia=Настя|Nastya
Elena=Лена|Lena
Olga=Оля|Olya
Irina=Ира|Ira
Svetlana=Света|Sveta
Darya=Даша|Dasha
Ksenia=Ксюша|Ksyusha
"""

# --------------------------------------------------------------------------------------------
# Ethiopian and Eritrean (Ge'ez script; Amharic and Tigrinya names). Family name = father's
# given name, so the family pool *is* the male given pool.
# --------------------------------------------------------------------------------------------

_ETH_M = """
ሙሉጌታ|Mulugeta,Mulugueta; ተስፋዬ|Tesfaye,Tesfay,Tesfai; ኃይሌ|Haile,Hayle
መሐመድ|Mohammed,Mohamed,Mehammed; ገብረመድህን|Gebremedhin,Gebre Medhin,Ghebremedhin
ዳዊት|Dawit; ሰለሞን|Solomon,Selomon; ዮሐንስ|Yohannes,Yohanes,Johannes; ዮናስ|Yonas,Jonas
ብርሃኑ|Birhanu,Berhanu,Brhanu; ግርማ|Girma; አበበ|Abebe; ታደሰ|Tadesse,Tadese; ካሳ|Kassa,Kasa
ደረጀ|Dereje; በረከት|Bereket; አማኑኤል|Amanuel,Emmanuel; ፍጹም|Fitsum,Fetsum
ሳሙኤል|Samuel; ዳንኤል|Daniel; ሚካኤል|Mikael,Michael,Mikiel; ገብሩ|Gebru,Ghebru
ተወልደ|Tewolde,Tewelde; ወልደማርያም|Woldemariam,Wolde Mariam,Weldemariam
ገብረማርያም|Gebremariam,Gebre Mariam,Ghebremariam
ገብረሥላሴ|Gebreselassie,Gebre Selassie,Gebrselassie
ኃይለማርያም|Hailemariam,Haile Mariam,Hailemaryam
ተክለሃይማኖት|Teklehaimanot,Tekle Haimanot,Teklehaymanot; ኪዳኔ|Kidane; መሐሪ|Mehari,Mehary
ሀብቶም|Habtom,Habtum; ፀጋይ|Tsegay,Tsegai,Tsegaye; ዓወት|Awet; ኤርሚያስ|Ermias,Ermiyas
ያሬድ|Yared; ሄኖክ|Henok,Henock; ብሩክ|Biruk,Bruk; ናሆም|Nahom; ሰመረ|Semere,Semre
ኢሳያስ|Isaias,Isayas,Esayas; ዘርአይ|Zerai,Zeray; ተመስገን|Temesgen,Temesghen
ወንድሙ|Wondimu,Wendimu; ጌታቸው|Getachew,Getachu; አለሙ|Alemu; በቀለ|Bekele
ወልዱ|Woldu,Weldu; ኪዳነማርያም|Kidanemariam,Kidane Mariam; ፍቅሩ|Fikru,Fekru
መብራቱ|Mebratu,Mebrahtu; ከድር|Kedir,Kadir; ዑመር|Umer,Omer
"""

_ETH_F = """
ሰላም|Selam,Salam; ሄለን|Helen,Hellen; ትዕግሥት|Tigist,Tegist,Tigst; መሰረት|Meseret,Messeret
ሉሊት|Lulit; ብርቱካን|Birtukan,Brtukan; ሃና|Hana,Hanna; ማርታ|Marta,Martha; ሳራ|Sara,Sarah
ሩት|Ruth,Rut; ቤተልሔም|Bethlehem,Betelhem,Bethelhem; ኤደን|Eden; ፀሐይ|Tsehay,Tsehai,Tsahai
ዘውዲቱ|Zewditu,Zauditu; አልማዝ|Almaz; አበባ|Abeba; ሕይወት|Hiwot,Hiwet
ፍረወይኒ|Freweini,Frewoyni,Fraweini; ሳባ|Saba; ዮርዳኖስ|Yordanos,Jordanos
ሰናይት|Senait,Senayt; ኤልሳ|Elsa; ፅጌ|Tsige,Tsighe; ወይኒ|Weini,Weyni
ዮዲት|Yodit,Yodith,Judith; ሜሮን|Meron; ራሄል|Rahel,Rachel; አስቴር|Aster,Ester
መቅደስ|Mekdes,Meqdes; ፍሬሕይወት|Frehiwot,Fre Hiwot; ገነት|Genet,Ghenet; ሰብለ|Seble
ሜላት|Melat; ቃልኪዳን|Kalkidan,Qalkidan; ማህሌት|Mahlet,Mahelet; ሊያ|Liya,Lia; ናርዶስ|Nardos
ፋጡማ|Fatuma,Fatma; ዘምዘም|Zemzem; አዜብ|Azeb
"""

# --------------------------------------------------------------------------------------------
# Thai (Thai script; RTGS and popular romanisations). Surnames are nearly unique in Thailand,
# so besides a few Sino-Thai ones they are built from real surname elements (บุญ+มี, ศรี+สุข).
# --------------------------------------------------------------------------------------------

_THAI_M = """
สมชาย|Somchai,Somchay; สมศักดิ์|Somsak,Somsuck; ประเสริฐ|Prasoet,Prasert
สมพงษ์|Somphong,Sompong; สุรชัย|Surachai,Surachay; วิชัย|Wichai,Vichai
ประยุทธ|Prayut,Prayuth; สมบัติ|Sombat; บุญมี|Bunmi,Boonmee; ชัยวัฒน์|Chaiwat,Chaiwatt
อนุชา|Anucha; ธนพล|Thanaphon,Tanapol,Thanapol; กิตติ|Kitti; สุรศักดิ์|Surasak,Surasuck
วีระ|Wira,Weera,Veera; ณรงค์|Narong; อำนาจ|Amnat,Amnaj; สุวิทย์|Suwit,Suwith
ทองดี|Thongdi,Thongdee,Tongdee; ประสิทธิ์|Prasit,Prasith; เอกชัย|Ekkachai,Ekachai
ชาตรี|Chatri,Chatree; ไพโรจน์|Phairot,Pairoj,Pairote; สมหมาย|Sommai,Sommay
บุญเลิศ|Bunloet,Boonlert; มานพ|Manop,Manob; วิทยา|Witthaya,Wittaya,Vittaya
พงศกร|Phongsakon,Pongsakorn; ณัฐวุฒิ|Natthawut,Nattawut; อภิชาติ|Aphichat,Apichart
สุเทพ|Suthep,Sutep; นิพนธ์|Niphon,Nipon; ธีรพงษ์|Thiraphong,Teerapong; ศักดิ์ชัย|Sakchai
จักรพันธ์|Chakkaphan,Jakkapan; ยุทธนา|Yutthana,Yuttana; เกียรติศักดิ์|Kiattisak,Kiatisak
ปกรณ์|Pakon,Pakorn; อดิศักดิ์|Adisak; วัชระ|Watchara,Vachara
"""

_THAI_F = """
สมศรี|Somsi,Somsri; มาลี|Mali,Malee; สุดา|Suda; วันเพ็ญ|Wanphen,Wanpen; อรุณี|Aruni,Arunee
กัญญา|Kanya,Kunya; สุภาพร|Suphaphon,Supaporn,Supaphorn; นภา|Napha,Napa
รัตนา|Rattana,Ratana; พรทิพย์|Phonthip,Porntip,Pornthip; ศิริพร|Siriphon,Siriporn
จันทร์เพ็ญ|Chanphen,Chanpen,Janpen; วิไล|Wilai,Vilai; สมใจ|Somchai,Somjai
ปราณี|Prani,Pranee; ดวงใจ|Duangchai,Duangjai; นงลักษณ์|Nongluk,Nonglak,Nongluck
อัมพร|Amphon,Amporn; ประภา|Prapha,Prapa; เพ็ญศรี|Phensi,Pensri; ลำดวน|Lamduan
จิราพร|Chiraphon,Jiraporn; ปิยะนุช|Piyanut,Piyanuch; ณัฐธิดา|Natthida,Nattida
ธิดารัตน์|Thidarat,Tidarat; สุนิสา|Sunisa; วรรณา|Wanna,Vanna; อำไพ|Amphai,Ampai
เยาวลักษณ์|Yaowalak,Yaowaluck; ชุติมา|Chutima; พิมพ์ชนก|Phimchanok,Pimchanok
กาญจนา|Kanchana,Kanjana; ศรีสุดา|Sisuda,Srisuda; อรทัย|Orathai,Orathay; มณี|Mani,Manee
บุษบา|Butsaba,Busaba; จิตรา|Chittra,Jitra,Chitra; นิภา|Nipha,Nipa
"""

_THAI_FAMILY_FIXED = """
แซ่ตั้ง|Saetang,Sae-Tang; แซ่ลิ้ม|Saelim,Sae-Lim; แซ่อึ้ง|Saeueng,Sae-Ung
แซ่เฮ้ง|Saeheng,Sae-Heng
"""

#: Thai surname building blocks: (native, RTGS, popular spelling).
THAI_SURNAME_HEADS: tuple[tuple[str, str, str], ...] = (
    ("ศรี", "Si", "Sri"),
    ("บุญ", "Bun", "Boon"),
    ("ทอง", "Thong", "Tong"),
    ("แก้ว", "Kaeo", "Kaew"),
    ("ชัย", "Chai", "Chai"),
    ("สุข", "Suk", "Sook"),
    ("วงศ์", "Wong", "Vong"),
    ("จันทร์", "Chan", "Jan"),
    ("เพชร", "Phet", "Petch"),
    ("ศักดิ์", "Sak", "Sak"),
    ("รัตน", "Rattana", "Ratana"),
    ("เจริญ", "Charoen", "Jaroen"),
    ("มณี", "Mani", "Manee"),
    ("ปัญญา", "Panya", "Panya"),
    ("นาค", "Nak", "Nark"),
    ("เงิน", "Ngoen", "Ngern"),
    ("แสง", "Saeng", "Sang"),
    ("พรหม", "Phrom", "Prom"),
)
THAI_SURNAME_TAILS: tuple[tuple[str, str, str], ...] = (
    ("สุข", "suk", "sook"),
    ("ศรี", "si", "sri"),
    ("วงศ์", "wong", "vong"),
    ("ทอง", "thong", "tong"),
    ("ดี", "di", "dee"),
    ("มี", "mi", "mee"),
    ("ชัย", "chai", "chai"),
    ("สวัสดิ์", "sawat", "sawad"),
    ("พันธ์", "phan", "pan"),
    ("รักษ์", "rak", "ruk"),
    ("กุล", "kun", "kul"),
    ("เจริญ", "charoen", "jaroen"),
    ("งาม", "ngam", "ngam"),
    ("ใจ", "chai", "jai"),
    ("พงษ์", "phong", "pong"),
    ("ประเสริฐ", "prasoet", "prasert"),
    ("สมบูรณ์", "sombun", "somboon"),
    ("แก้ว", "kaeo", "kaew"),
    ("มณี", "mani", "manee"),
    ("ศักดิ์", "sak", "sak"),
)

_THAI_NICK_M = """
เล็ก|Lek; แดง|Daeng,Dang; ต้อม|Tom; หนึ่ง|Nueng,Neung; บอย|Boy; ต้น|Ton; เก่ง|Keng,Geng
โอ๊ต|Oat; น้อย|Noi,Noy; เอก|Ek,Eak
"""
_THAI_NICK_F = """
น้อย|Noi,Noy; นก|Nok; ปู|Pu,Poo; แอน|Ann; พลอย|Phloi,Ploy; บี|Bee; ก้อย|Koi; จอย|Joy
นุ่น|Nun,Noon; ฝน|Fon; เล็ก|Lek; ต่าย|Tai
"""

# --------------------------------------------------------------------------------------------
# Chinese (simplified Han; Hanyu Pinyin plus Wade-Giles / Cantonese / Hokkien surnames).
# Given names are built from one or two popular characters.
# --------------------------------------------------------------------------------------------

_CHN_FAMILY = """
王|Wang,Wong; 李|Li,Lee,Lei; 张|Zhang,Chang,Cheung; 刘|Liu,Lau,Lew; 陈|Chen,Chan,Chin
杨|Yang,Yeung,Young; 黄|Huang,Wong,Hwang; 赵|Zhao,Chao,Chiu; 吴|Wu,Ng,Woo
周|Zhou,Chou,Chow; 徐|Xu,Hsu,Tsui; 孙|Sun,Suen; 马|Ma,Mah; 朱|Zhu,Chu; 胡|Hu,Woo
郭|Guo,Kuo,Kwok; 何|He,Ho; 林|Lin,Lam,Lim; 高|Gao,Kao,Ko; 罗|Luo,Lo,Law
郑|Zheng,Cheng,Chang; 梁|Liang,Leung; 谢|Xie,Hsieh,Tse; 宋|Song,Sung; 唐|Tang,Tong
许|Xu,Hsu,Hui; 韩|Han,Hon; 冯|Feng,Fung; 邓|Deng,Teng,Tang; 曹|Cao,Tsao,Cho
彭|Peng,Pang; 曾|Zeng,Tseng,Tsang; 肖|Xiao,Hsiao,Siu; 田|Tian,Tien; 董|Dong,Tung
袁|Yuan,Yuen; 潘|Pan,Poon; 蒋|Jiang,Chiang; 蔡|Cai,Tsai,Choi; 余|Yu,Yee; 杜|Du,Tu,To
叶|Ye,Yeh,Yip; 程|Cheng,Ching; 苏|Su,So; 魏|Wei,Ngai; 吕|Lü,Lyu,Lu,Lui; 丁|Ding,Ting
任|Ren,Jen,Yam; 沈|Shen,Shum; 姚|Yao,Yiu; 卢|Lu,Lo,Lou; 姜|Jiang,Keung; 崔|Cui,Tsui
钟|Zhong,Chung; 谭|Tan,Tam,Tham; 陆|Lu,Luk; 汪|Wang,Wong; 范|Fan; 金|Jin,Kam,Kim
石|Shi,Shek; 廖|Liao,Liu; 贾|Jia,Chia; 夏|Xia,Hsia,Ha; 韦|Wei; 方|Fang,Fong
白|Bai,Pai,Pak; 邹|Zou,Tsou,Chau; 孟|Meng; 熊|Xiong,Hsiung,Hung; 秦|Qin,Chin,Chun
邱|Qiu,Chiu,Yau; 江|Jiang,Kong; 尹|Yin,Wan; 薛|Xue,Hsueh,Sit; 闫|Yan; 段|Duan,Tuen
雷|Lei,Lui; 侯|Hou,Hau; 龙|Long,Lung; 史|Shi,Sze; 陶|Tao,To; 黎|Li,Lai; 贺|He,Ho
顾|Gu,Ku,Koo; 毛|Mao; 郝|Hao; 龚|Gong,Kung; 邵|Shao,Shiu; 万|Wan,Man
钱|Qian,Chien,Chin; 严|Yan,Yim; 赖|Lai; 洪|Hong,Hung; 武|Wu,Mo; 莫|Mo,Mok; 孔|Kong,Hung
"""

#: Given-name characters with their pinyin syllable, roughly by popularity.
CHN_GIVEN_CHARS_M: tuple[tuple[str, str], ...] = tuple(
    (c, p)
    for c, p in (
        item.split(":")
        for item in (
            "伟:wei 强:qiang 磊:lei 军:jun 勇:yong 杰:jie 涛:tao 明:ming 超:chao 刚:gang "
            "平:ping 辉:hui 鹏:peng 华:hua 飞:fei 鑫:xin 波:bo 斌:bin 宇:yu 浩:hao 凯:kai "
            "健:jian 俊:jun 帆:fan 帅:shuai 旭:xu 宁:ning 龙:long 林:lin 阳:yang 建:jian "
            "国:guo 志:zhi 文:wen 东:dong 海:hai 亮:liang 成:cheng 峰:feng 博:bo 晨:chen "
            "天:tian 子:zi 小:xiao 家:jia 嘉:jia 振:zhen 永:yong 德:de 泽:ze"
        ).split()
    )
)
CHN_GIVEN_CHARS_F: tuple[tuple[str, str], ...] = tuple(
    (c, p)
    for c, p in (
        item.split(":")
        for item in (
            "芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 秀:xiu 英:ying 玲:ling "
            "桂:gui 红:hong 梅:mei 兰:lan 燕:yan 萍:ping 雪:xue 琳:lin 婷:ting 慧:hui 玉:yu "
            "丹:dan 倩:qian 颖:ying 洁:jie 佳:jia 欣:xin 怡:yi 悦:yue 琪:qi 晶:jing 莉:li "
            "璐:lu 露:lu 月:yue 云:yun 凤:feng 春:chun 小:xiao 晓:xiao 思:si 雨:yu 梦:meng "
            "诗:shi 美:mei"
        ).split()
    )
)

#: Simplified -> traditional for the characters above (Taiwan / Hong Kong records).
CHN_TRADITIONAL: dict[str, str] = dict(
    pair.split(":")
    for pair in (
        "张:張 陈:陳 刘:劉 杨:楊 黄:黃 赵:趙 吴:吳 孙:孫 马:馬 罗:羅 郑:鄭 谢:謝 许:許 韩:韓 "
        "冯:馮 邓:鄧 叶:葉 苏:蘇 吕:呂 卢:盧 钟:鍾 谭:譚 陆:陸 贾:賈 龚:龔 钱:錢 严:嚴 赖:賴 "
        "龙:龍 顾:顧 邹:鄒 闫:閆 贺:賀 蒋:蔣 韦:韋 万:萬 伟:偉 强:強 军:軍 涛:濤 刚:剛 辉:輝 "
        "鹏:鵬 华:華 飞:飛 凯:凱 帅:帥 宁:寧 阳:陽 国:國 东:東 泽:澤 杰:傑 静:靜 丽:麗 艳:艷 "
        "红:紅 兰:蘭 颖:穎 洁:潔 悦:悅 云:雲 凤:鳳 晓:曉 梦:夢 诗:詩"
    ).split()
)

_CHN_NICK_M = "|David; |Kevin; |Jack; |Tony; |Eric; |Michael; |Jason; |Peter; |Leo; |Alex"
_CHN_NICK_F = "|Lily; |Amy; |Jenny; |Coco; |Vivian; |Grace; |Annie; |Linda; |Cindy; |Helen"

# --------------------------------------------------------------------------------------------
# Nepali and North Indian (Devanagari; Nepali spellings where they differ from Hindi)
# --------------------------------------------------------------------------------------------

_NPL_M = """
राम|Ram,Raam; श्याम|Shyam,Syam; कृष्ण|Krishna,Krisna; राजेश|Rajesh,Rajes; सुरेश|Suresh,Sures
रमेश|Ramesh; दिनेश|Dinesh; महेश|Mahesh; गणेश|Ganesh; सुनील|Sunil,Suneel; अनिल|Anil
विजय|Bijay,Vijay,Bijaya; संजय|Sanjay,Sanjaya; अजय|Ajay,Ajaya; राजु|Raju,Rajoo
दीपक|Deepak,Dipak; प्रकाश|Prakash; मनोज|Manoj; हरि|Hari; गोपाल|Gopal
विकास|Bikash,Vikas,Vikash; सन्तोष|Santosh,Santos; राजन|Rajan; सागर|Sagar; रोशन|Roshan,Rosan
सुमन|Suman; बिनोद|Binod,Vinod; नारायण|Narayan,Narayana; भरत|Bharat,Bharath; अर्जुन|Arjun
प्रदीप|Pradeep,Pradip; अशोक|Ashok,Asok; विष्णु|Bishnu,Vishnu; शिव|Shiva,Shiv,Siva
कमल|Kamal; नवीन|Nabin,Naveen,Navin; रवि|Rabi,Ravi; मोहन|Mohan; आकाश|Akash,Aakash
अमित|Amit; राहुल|Rahul; प्रेम|Prem; टेक|Tek
"""

_NPL_F = """
सीता|Sita,Seeta; गीता|Gita,Geeta; सरिता|Sarita; सुनिता|Sunita,Suneeta; अनिता|Anita
लक्ष्मी|Laxmi,Lakshmi; पूजा|Puja,Pooja; प्रिया|Priya; मीना|Meena,Mina; रीता|Rita,Reeta
कमला|Kamala; सावित्री|Sabitri,Savitri; राधा|Radha; शान्ति|Shanti,Santi
सुशीला|Sushila,Susila; पार्वती|Parbati,Parvati; सरस्वती|Saraswati,Sarswati
कविता|Kabita,Kavita; ममता|Mamata,Mamta; निशा|Nisha,Nisa; अंजलि|Anjali; रेखा|Rekha
उषा|Usha; सपना|Sapana,Sapna; कल्पना|Kalpana; बिमला|Bimala,Vimala; दुर्गा|Durga
गंगा|Ganga; यमुना|Yamuna,Jamuna; सुमित्रा|Sumitra; नेहा|Neha; आशा|Asha
इन्दिरा|Indira; रुपा|Rupa,Roopa; भगवती|Bhagwati,Bhagawati; मनिषा|Manisha,Manisa
प्रतिमा|Pratima; सुजाता|Sujata; ज्योति|Jyoti,Jyothi
"""

_NPL_FAMILY = """
श्रेष्ठ|Shrestha,Shreshtha,Srestha; तामाङ|Tamang; गुरुङ|Gurung; राई|Rai; मगर|Magar
थापा|Thapa; अधिकारी|Adhikari; शर्मा|Sharma,Sarma; पौडेल|Poudel,Paudel,Paudyal
खड्का|Khadka; कार्की|Karki; बस्नेत|Basnet; भट्टराई|Bhattarai; लामा|Lama; लिम्बु|Limbu
यादव|Yadav,Yadab; कोइराला|Koirala; घिमिरे|Ghimire; केसी|KC,K.C.; बिष्ट|Bista,Bisht
खत्री|Khatri; ढकाल|Dhakal; सिंह|Singh,Sing; कुमार|Kumar; पटेल|Patel; गुप्ता|Gupta
वर्मा|Verma,Varma; चौधरी|Chaudhary,Choudhary,Chaudhari; मण्डल|Mandal,Mondal; शाह|Shah
महतो|Mahato,Mahto; राउत|Raut,Rawat; पाण्डे|Pandey,Pande,Pandeya; मिश्र|Mishra,Misra
तिवारी|Tiwari,Tewari; जोशी|Joshi,Josi; आचार्य|Acharya; नेपाल|Nepal; रेग्मी|Regmi
भण्डारी|Bhandari; खनाल|Khanal; पोखरेल|Pokharel,Pokhrel; सुवेदी|Subedi,Suvedi
दाहाल|Dahal; न्यौपाने|Neupane,Nyaupane
"""

_NPL_MIDDLE_M = "कुमार|Kumar; बहादुर|Bahadur; प्रसाद|Prasad; राज|Raj"
_NPL_MIDDLE_F = "कुमारी|Kumari; देवी|Devi; माया|Maya"

# --------------------------------------------------------------------------------------------
# Vietnamese (Latin script with tone marks; the family name comes first in native order)
# --------------------------------------------------------------------------------------------

_VNM_FAMILY = """
Nguyễn; Trần; Lê,Lee; Phạm; Hoàng; Huỳnh; Phan; Vũ; Võ; Đặng; Bùi; Đỗ; Hồ; Ngô; Dương,Zuong
Lý,Lee; Đinh; Đào; Trương,Truong; Lâm; Mai; Cao; Lưu; Tạ; Hà; Tô; Châu; Thái; Quách
Kiều; Lương; Đoàn; Vương; Tăng; Triệu; Phùng; La; Chu; Mạc; Tôn
"""

_VNM_M = """
Hùng; Dũng; Minh; Tuấn; Hải; Nam; Long; Thắng; Sơn; Hoàng; Cường; Đức; Quang; Hiếu; Huy
Khánh; Phúc; Trung; Thành; Bình; Tùng; Việt; Vinh; Phong; Lâm; An; Tâm; Tài; Toàn; Đạt
Kiên; Hưng; Hòa,Hoà; Lộc; Nghĩa; Quân; Tiến; Tú; Duy; Thịnh; Khoa; Hiển; Bảo; Trí; Nhân
"""

_VNM_F = """
Hương; Lan; Linh; Hoa; Mai; Hằng; Trang; Thảo; Ngọc; Anh; Hà; Nhung; Huyền; Phương
Thủy,Thuỷ; Yến; Loan; Dung; Hạnh; Nga; Hiền; Thu; Vân; Ly; Nhi; Quỳnh; Trinh; Tuyết
Oanh; Diệp; My; Uyên; Châu; Giang; Hồng; Liên; Thư; Nguyệt; Xuân; Vy; Diễm; Kim; Tâm; Hậu
"""

_VNM_MIDDLE_M = "Văn; Đức; Hữu; Minh; Quang; Thành; Công; Ngọc; Xuân; Trọng"
_VNM_MIDDLE_F = "Thị; Ngọc; Thu; Thanh; Kim; Bích; Thúy,Thuý; Hồng; Mỹ; Phương"

# --------------------------------------------------------------------------------------------
# Nigerian (Yoruba, Igbo, Hausa, Edo and English names)
# --------------------------------------------------------------------------------------------

_NGA_M = """
Emmanuel; Ibrahim; Chinedu; Musa; Samuel; Abdullahi,Abdulahi; Oluwaseun,Oluseun; John
Daniel; Chukwuemeka,Chukwuemeke; Godwin; Sani; Usman,Osman; Michael; Joseph; Aliyu
Babatunde; Obinna; Yusuf,Yusuff; David; Ikechukwu; Nnamdi; Uchenna; Friday; Sunday
Olumide; Oluwafemi; Adewale; Ayodele; Kayode; Olusegun; Peter; Paul; Kelechi
Chibuzor,Chibuzo; Tochukwu; Ifeanyi,Ifeanyichukwu; Chidi; Innocent; Victor; Kingsley
Osagie; Efosa; Eghosa; Gbenga; Suleiman,Sulaiman; Abubakar,Abubakr; Oluwatobi
"""

_NGA_F = """
Blessing; Chioma; Fatima,Fatimah; Aisha,Aishat; Ngozi; Joy; Grace; Mercy; Precious
Adaeze; Amaka; Chiamaka; Nneka; Ifeoma; Uchechi; Funmilayo; Folake; Yetunde; Hauwa
Zainab,Zainabu; Aminat,Aminah; Faith; Patience; Favour,Favor; Gift; Esther; Mary
Elizabeth; Comfort; Peace; Oluwakemi; Omolara; Bukola; Temitope; Abimbola; Osaretin; Efe
Eki; Chinyere; Adanna; Ebere; Halima,Halimat; Rukayat,Ruqayyah; Oluwaseyi; Ifunanya
"""

_NGA_FAMILY = """
Okafor; Musa; Ibrahim; Okonkwo; Eze,Ezeh; Mohammed,Muhammad,Mohammad; Bello; Abubakar
Nwosu; Okeke; Adeyemi; Obi; Usman; Yusuf; Adebayo; Nwachukwu; Chukwu,Chuku; Aliyu; Lawal
Balogun; Okoro; Igwe; Ogunleye; Olawale; Nnadi; Ugwu; Agbo; Osagie; Omoregie; Igbinedion
Osaghae; Ehigiator; Idahosa; Edobor; Afolabi; Ogunbiyi; Ojo; Akinola; Olatunji; Ogbonna
Anyanwu; Ibe; Emenike; Okorie; Nwankwo; Uzor; Danjuma; Garba; Abdullahi; Oyelaran
Okechukwu; Onyeka; Adeleke; Fashola; Bakare; Salami; Oyewole; Akande; Ekwueme; Uche
"""

_NGA_NICK = """
Chukwuemeka=|Emeka
Oluwaseun=|Seun
Oluwafemi=|Femi
Babatunde=|Tunde
Olusegun=|Segun
Ikechukwu=|Ike
Oluwatobi=|Tobi
Oluwakemi=|Kemi
Funmilayo=|Funmi
Abimbola=|Bimbo
Temitope=|Tope
Ifeanyi=|Ify
Emmanuel=|Emma
Elizabeth=|Lizzy
"""

# --------------------------------------------------------------------------------------------
# Romanian and Moldovan (Latin with comma-below ș/ț; the cedilla forms are a real variant)
# --------------------------------------------------------------------------------------------

_ROU_M = """
Andrei; Alexandru; Ion; Gheorghe; Vasile; Constantin; Mihai; Ștefan; Florin; Ionuț; Marian
Nicolae; Dumitru; Adrian; Cristian; Daniel; Gabriel; Bogdan; Ciprian; Cătălin; Răzvan; Sorin
Marius; Alin; Claudiu; Costel; Petru; Ilie; Viorel; Valentin; Lucian; Sebastian; Robert
Iulian; Dorin; Emil; Radu; Mircea; Laurențiu; Ovidiu; Tudor; Darius
"""

_ROU_F = """
Maria; Elena; Ioana; Ana; Andreea; Mihaela; Gabriela; Alexandra; Cristina; Daniela
Georgiana; Ionela; Nicoleta; Adriana; Alina; Simona; Roxana; Diana; Raluca; Bianca; Larisa
Irina; Claudia; Ramona; Oana; Iuliana; Denisa; Cătălina; Mădălina; Ștefania; Loredana
Valentina; Camelia; Anca; Corina; Laura; Luminița; Petronela; Vasilica; Florica; Rodica
Elisabeta; Teodora
"""

_ROU_FAMILY = """
Popa; Popescu; Pop; Radu; Ionescu; Dumitru; Stan; Stoica; Gheorghe; Matei; Ciobanu; Rusu
Munteanu; Constantin; Mocanu; Ion; Lungu; Marin; Tudor; Diaconu; Florea; Ene; Moldovan
Dinu; Șerban; Barbu; Sandu; Cristea; Nistor; Toma; Dobre; Dragomir; Lazăr; Bălan; Manea
Marinescu; Ilie; Oprea; Vasile; Nedelcu; Zamfir; Grigore; Neagu; Țurcanu; Enache; Coman
Voicu; Preda; Avram; Surdu; Căpraru; Dumitrescu; Stănescu; Nițu
"""

_ROU_NICK = """
Alexandru=|Alex
Ștefan=|Fane
Gheorghe=|Gică,Gigi
Constantin=|Costel,Costi
Nicolae=|Nicu
Ionuț=|Ionel
Mihaela=|Miha
Alexandra=|Alexa
Gabriela=|Gabi
Cristina=|Cristi
"""

# --------------------------------------------------------------------------------------------
# Albanian (Latin with ë and ç; Slavic-style transcriptions as variants)
# --------------------------------------------------------------------------------------------

_ALB_M = """
Arben; Ardit; Besnik; Bledar; Dritan; Elton; Endrit; Erion; Fatos; Gentian; Ilir; Klodian
Kristian; Leonard; Luan; Altin; Artan; Agron; Arjan; Ermal; Florian; Gëzim,Gezim; Klevis
Redon; Sokol; Taulant; Valon; Flamur; Shkëlqim; Besart
"""

_ALB_F = """
Anila; Arjola; Blerta; Brikena; Drita; Elda; Elona; Enkelejda; Ermira; Fatjona; Flutura
Gentiana; Jonida; Klea; Lindita; Majlinda; Mirela; Sara; Silvana; Valbona; Vjollca; Xhensila
Ornela; Teuta; Erjona; Fjolla
"""

_ALB_FAMILY = """
Hoxha,Hodža,Hodja; Shehu,Šehu; Gashi,Gaši; Berisha,Beriša; Krasniqi,Krasnići; Kelmendi; Morina
Leka; Dervishi,Derviši; Hysa; Kola; Prifti; Çela,Cela; Hoxhaj; Bajrami; Kastrati; Marku
Gjoka; Dushku; Kuka; Basha; Mema; Rama; Meta; Topalli; Shkurti; Lika; Zeneli; Hyseni
Ahmeti; Islami; Thaçi,Thaqi
"""

_ALB_NICK = """
Arben=|Beni
Gentian=|Genti
Dritan=|Tani
"""

# --------------------------------------------------------------------------------------------
# Polish (Latin with ł, ą, ę, ś, ż...; -ski/-cki surnames take -ska/-cka for women)
# --------------------------------------------------------------------------------------------

_POL_M = """
Łukasz,Lukas; Piotr; Krzysztof; Tomasz; Paweł; Michał; Marcin; Jakub; Adam; Kamil; Mateusz
Marek; Grzegorz; Andrzej; Wojciech; Jan; Dariusz; Rafał; Maciej; Sebastian; Przemysław
Mariusz; Szymon; Robert; Bartosz; Jacek; Zbigniew; Stanisław; Józef; Sławomir
"""

_POL_F = """
Anna; Katarzyna; Magdalena; Agnieszka; Małgorzata; Joanna; Aleksandra; Monika; Ewa; Barbara
Natalia; Karolina; Marta; Justyna; Dorota; Beata; Paulina; Elżbieta; Zofia; Weronika
Krystyna; Izabela; Sylwia; Agata; Jolanta; Renata; Iwona; Grażyna; Wiktoria; Julia
"""

_POL_FAMILY = """
Nowak; Kowalski; Wiśniewski; Wójcik; Kowalczyk; Kamiński; Lewandowski; Zieliński
Szymański; Woźniak; Dąbrowski; Kozłowski; Jankowski; Mazur; Wojciechowski; Kwiatkowski
Krawczyk; Kaczmarek; Piotrowski; Grabowski; Zając; Pawłowski; Michalski; Król; Wieczorek
Jabłoński; Wróbel; Nowakowski; Majewski; Olszewski; Stępień; Malinowski; Jaworski
Adamczyk; Dudek
"""

_POL_NICK = """
Aleksandra=|Ola
Katarzyna=|Kasia
Małgorzata=|Gosia
Krzysztof=|Krzysiek
Tomasz=|Tomek
Jakub=|Kuba
Agnieszka=|Aga
"""

# --------------------------------------------------------------------------------------------
# Latin American Spanish (two surnames: paternal then maternal)
# --------------------------------------------------------------------------------------------

_LAT_M = """
José; Juan; Luis; Carlos; Jorge; Miguel; Jesús; Francisco; Antonio; Pedro; Manuel
Alejandro; Fernando; Ricardo; Javier; Roberto; Daniel; Eduardo; Rafael; Sergio; Mario
Óscar; Andrés; Raúl; Víctor; Diego; Héctor; Pablo; Julio; Martín; Arturo; Alberto; Ángel
Enrique; Gustavo; Hugo; Rubén; Santiago; Sebastián; Cristian,Christian; Edwin; Wilson
Jhon,John,Jon; Brayan,Bryan,Brian; Kevin; Jefferson,Yeferson
"""

_LAT_F = """
María; Ana; Carmen; Rosa; Luz; Gabriela; Daniela; Andrea; Laura; Paola; Sandra; Claudia
Patricia; Carolina; Valentina; Camila; Alejandra; Diana; Mónica; Verónica; Martha,Marta
Lucía; Isabel; Sofía; Natalia; Yesenia,Jesenia,Yessenia; Jennifer,Yennifer,Jenifer; Karla
Leidy,Lady,Leydi; Yuliana,Juliana; Marisol; Guadalupe; Fernanda; Estefanía,Stephanie
Adriana; Elena; Gloria; Teresa; Beatriz; Juana; Dayana,Dayanna; Milagros; Yolanda
"""

_LAT_FAMILY = """
García; Rodríguez; Martínez; Hernández; López; González,Gonzales; Pérez; Sánchez; Ramírez
Torres; Flores; Rivera; Gómez; Díaz; Cruz; Morales; Reyes; Gutiérrez; Ortiz; Chávez; Ruiz
Jiménez,Giménez; Mendoza; Álvarez; Castillo; Vásquez,Vázquez; Romero; Herrera; Medina
Aguilar; Vargas; Castro; Guzmán; Muñoz; Rojas; Moreno; Suárez; Ramos; Delgado; Silva
Contreras; Salazar; Peña; Cortés; Navarro; Cabrera; Ríos; Espinoza,Espinosa; Cárdenas
Quispe; Mamani; Zapata; Osorio; Montoya; Cáceres; Benítez; Acosta; Arias
"""

_LAT_NICK = """
José=|Pepe
Francisco=|Paco / |Pancho
Guadalupe=|Lupe
Jesús=|Chucho
Alejandro=|Alex
Roberto=|Beto
Alberto=|Beto
Eduardo=|Lalo
Rosa=|Rosita
Manuel=|Manolo
Enrique=|Quique
"""

# --------------------------------------------------------------------------------------------
# Filipino (Spanish- and English-derived names; middle name = mother's maiden surname)
# --------------------------------------------------------------------------------------------

_PHL_M = """
Jose; Juan; Mark; Michael; Ronald; Jerome; Rodel; Reynaldo; Eduardo; Roberto; Antonio
Ricardo; Romeo; Rogelio; Danilo; Rommel; Arnel; Jayson,Jason; Jomar; Joel; Ariel; Christian
Carlo; Angelo; Rey; Noel; Allan,Alan; Ramon; Ferdinand; Renato; Efren; Randy; Marlon
Dennis; Rodrigo; Joshua; John Paul,Jhon Paul; Mark Anthony; John Rey,Jonrey; Jun-Jun
"""

_PHL_F = """
Maria,Ma.; Mary Grace; Jocelyn,Joselyn; Rowena; Cristina,Kristina; Teresita; Josephine
Analyn; Lorna; Rosalie; Jennifer; Michelle; Rhea; Angelica; Kristine,Christine; Mylene
Marilou; Elizabeth; Evangeline; Lourdes; Leonora; Gemma; Girlie; Lovely; Princess; Mae
Joy; Charmaine; Catherine; Janet; Gina; Imelda; Corazon; Erlinda; Marissa; Shiela,Sheila
Aileen,Eileen; Liezel,Lizel; Rachelle; Ma. Cristina,Maria Cristina
"""

_PHL_FAMILY = """
Santos; Reyes; Cruz; Bautista; Ocampo; Garcia; Mendoza; Torres; Tomas; Andrada; Castillo
Flores; Villanueva; Ramos; Castro; Rivera; Aquino; Navarro; Salazar; Mercado
Dela Cruz,De la Cruz,Delacruz; De Leon,Deleon; Del Rosario,Delrosario; De Guzman,Deguzman
Gonzales; Lopez; Hernandez; Dizon; Pascual; Soriano; Valdez; Manalo; Gutierrez; Aguilar
Domingo; Fernandez; Rosales; Marquez; Padilla; Santiago; Macaraeg; Pangilinan; Tolentino
Dimaculangan; Magbanua; Panganiban; Lacson; Sison; Manalastas
"""

_PHL_NICK = """
Roberto=|Bert
Antonio=|Tony
Eduardo=|Eddie
Ricardo=|Carding
Rogelio=|Roger
Josephine=|Josie
Teresita=|Tess
Elizabeth=|Beth
Catherine=|Cathy
Reynaldo=|Rey
"""

_PHL_FREE_NICK_M = "|Jun; |Bong; |Boy; |Jojo; |Dodong"
_PHL_FREE_NICK_F = "|Baby; |Girlie; |Neneng; |Len; |Joy"


# --------------------------------------------------------------------------------------------
# Long tails. Real surname distributions have thousands of rare names after a short head of
# very common ones; without a tail, everybody of an origin would share a name with somebody.
# --------------------------------------------------------------------------------------------

_ARABIC_FAMILY_MORE = """
الحمصي|Al-Homsi,Al Himsi,Alhomsi; العراقي|Al-Iraqi,El Iraqi; الحريري|Al-Hariri,Hariri
الأنصاري|Al-Ansari,Ansari,El Ansari; القحطاني|Al-Qahtani,Al Kahtani
الشمري|Al-Shammari,Alshammari,Al Shamari; الرفاعي|Al-Rifai,Al Refaei,Rifai
الكبيسي|Al-Kubaisi,Al Kubaysi; السعدي|Al-Saadi,El Saadi,Saadi
الموسوي|Al-Musawi,Al Moussawi,Mousawi; البكري|Al-Bakri,El Bakry; الصباغ|Al-Sabbagh,Sabbagh
العطار|Al-Attar,Attar,El Attar; الفارس|Al-Fares,Alfaris; العبد الله|Al-Abdullah,Alabdallah
المحمد|Al-Mohammad,Almohammed; الخليل|Al-Khalil,Khalil; عبد الحميد|Abdelhamid,Abdul Hamid
عبد القادر|Abdelkader,Abdul Qadir,Abdulkadir; عبد السلام|Abdelsalam,Abdul Salam,Abdessalam
بن عمر|Benomar,Ben Omar; بن يوسف|Benyoussef,Ben Youssef; الزين|El Zein,Al-Zein
عواد|Awad,Awwad; عطية|Attia,Atiyah,Atia; شحادة|Shehadeh,Chehade,Shahada
زيدان|Zeidan,Zidane; سلامة|Salameh,Salama; فرج|Farag,Faraj; غانم|Ghanem,Ghanim
عيد|Eid,Aid; صبري|Sabry,Sabri; رمضان|Ramadan,Ramadhan; مرسي|Morsi,Mursi
الطويل|El Tawil,Al-Taweel; البنا|El Banna,Al-Banna; المالكي|Al-Maliki,Almaliki
الجنابي|Al-Janabi,Aljanabi; الربيعي|Al-Rubaie,Al Rubaiee; الخزرجي|Al-Khazraji,Khazraji
الشهري|Al-Shehri,Alshehri; الغامدي|Al-Ghamdi,Alghamdi; الحربي|Al-Harbi,Alharbi
الأحمدي|Al-Ahmadi,El Ahmadi; النعيمي|Al-Nuaimi,Al Naimi; الكعبي|Al-Kaabi,Alkaabi
العنزي|Al-Anazi,Al Enezi; الخالدي|Al-Khalidi,El Khaldi; الحداد|Al-Haddad,El Haddad
الصالح|Al-Saleh,Alsaleh; الأيوبي|Al-Ayoubi,Ayoubi; الفلاحي|Al-Falahi,El Fellahi
الطحان|Al-Tahhan,Tahan; القاضي|El Kadi,Al-Qadi,Alkadi; الزهراني|Al-Zahrani,Alzahrani
بن عبد الله|Ben Abdallah,Benabdallah,Bin Abdullah; بلحاج|Belhadj,Bel Hadj
بوعزيز|Bouaziz,Bou Aziz; التونسي|Ettounsi,Al-Tunisi; المغربي|El Maghribi,Al-Maghrebi
الليبي|Al-Libi,El Libi; الجزائري|El Djazairi,Al-Jazairi; السوداني|Al-Sudani,El Soudani
"""

_UKR_FAMILY_MORE = """
Гуменюк Дорошенко Тимошенко Остапенко Сидоренко Мироненко Федоренко Давиденко Семенюк
Гнатюк Данилюк Стасюк Панченко Головко Сорока Кучер Ткач Кравець Коломієць Дмитренко
Нестеренко Сергієнко Гордієнко Тимченко Мартинюк Мартиненко Назаренко Андрієнко Пилипенко
Тарасенко Власенко Демченко Зінченко Лук'яненко Яценко Бабенко Білоус Гребенюк Дяченко
Жук Іщенко Козак Козаченко Кондратенко Костюк Кучеренко Лещенко Луценко Мельничук
Науменко Онищенко Охріменко Павлюк Пархоменко Петрук Пилипчук Радченко Рибак Семенко
Сидорчук Соловйов Стецюк Тищенко Фесенко Филипчук Хоменко Цимбалюк Шаповал Юрчук Ющенко
Якименко Ярмоленко Ященко Бурлака Вакуленко Гнатенко Грищенко Гуцул Дмитрук Єременко
Євтушенко Іванченко Ігнатенко Карпюк Кирилюк Климчук Козловський Левицький Лозинський
Остапчук Рудик Садовий Осадчий Слободян Стельмах Тимчук Федорчук Хомич Чайка Шпак Щербак
Яремчук Бондарчук Олексієнко Гончарук Литвинчук Мацюк Вовк Ковалишин Возняк Кравчишин
Процюк Гладкий Білоконь Дячук Кравчинський Заїка Гаврилюк Лисенко Головатий Чорновол
"""

_RUS_FAMILY_MORE = """
Богданов Воронин Гаврилов Герасимов Голубев Гончаров Горбунов Давыдов Денисов Ершов
Ефимов Жданов Зуев Игнатьев Калинин Карпов Комаров Кондратьев Константинов Крылов Куликов
Лазарев Марков Мартынов Матвеев Мельников Миронов Назаров Никифоров Овчинников Осипов
Панов Пономарёв Прохоров Родионов Рыбаков Савельев Сафонов Селезнёв Симонов Сидоров
Суханов Титов Тихонов Трофимов Уваров Ушаков Филиппов Фомин Шубин Щербаков Юдин Яшин
Абрамов Агафонов Аксёнов Анисимов Архипов Афанасьев Белоусов Беляев Бирюков Блинов
Бобров Быков Власов Гордеев Горшков Гришин Гущин Дементьев Дорофеев Евдокимов Емельянов
Ерофеев Зиновьев Зотов Исаев Казаков Капустин Кириллов Колесников Кудрявцев Лапин
Лобанов Лукин Львов Маслов Мухин Наумов Носов Орехов Петухов Рожков Русаков Сазонов
Самойлов Селиванов Соболев Субботин Тимофеев Третьяков Устинов Фадеев Федотов Харитонов
Хохлов Цветков Чистяков Шаров Шилов Шмелёв Щукин Юрьев Ахмедов Алиев Исмаилов Каримов
Рахимов Ахметов Касымов Омаров Сулейменов Вишневский Заболоцкий Горский Каменский
Успенский Ильин Елисеев Ермаков Карасёв
"""

_ETH_COMPOUND_HEADS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ገብረ", ("Gebre", "Ghebre")),
    ("ወልደ", ("Wolde", "Welde")),
    ("ኃይለ", ("Haile", "Hayle")),
    ("ተክለ", ("Tekle", "Tekla")),
    ("ሀብተ", ("Habte", "Habta")),
    ("ኪዳነ", ("Kidane",)),
    ("ፍቅረ", ("Fikre", "Fikri")),
    ("ተስፋ", ("Tesfa",)),
)
_ETH_COMPOUND_TAILS: tuple[tuple[str, str], ...] = (
    ("ማርያም", "Mariam"),
    ("ሥላሴ", "Selassie"),
    ("ሚካኤል", "Michael"),
    ("ጊዮርጊስ", "Giorgis"),
    ("መድህን", "Medhin"),
    ("ኪዳን", "Kidan"),
    ("እግዚአብሔር", "Egziabher"),
    ("የሱስ", "Yesus"),
    ("ክርስቶስ", "Kristos"),
    ("ገብርኤል", "Gabriel"),
    ("ጻድቅ", "Tsadik"),
    ("ሕይወት", "Hiwot"),
    ("ጽዮን", "Tsion"),
    ("መስቀል", "Meskel"),
)

_NGA_FAMILY_MORE = """
Adesina; Adeniyi; Adeoye; Adegoke; Adebisi; Adesanya; Adelaja; Adetunji; Ademola; Adeola
Afolayan; Ajayi; Akinwale; Akinyemi; Akintola; Alabi; Aluko; Ayodele; Babatunde; Bamidele
Bankole; Dada; Fagbemi; Fayemi; Ige; Ilori; Jimoh; Kolawole; Odunsi; Ogundipe; Ogunlade
Oladipo; Olaniyan; Olayemi; Oluwole; Omotayo; Onifade; Oyebanji; Oyedepo; Popoola; Salako
Sanni; Shittu; Sowunmi; Taiwo; Kehinde; Idowu; Oni; Ogundele; Oyeleke; Adeniran; Ayoola
Nwafor; Nweke; Nworie; Nwabueze; Nwoye; Obiora; Okoye; Okpara; Onuoha; Onwuka; Ibekwe
Ezeani; Ezenwa; Ezekwesili; Chukwuma; Agu; Ugwuanyi; Udeh,Ude; Mbah; Odili; Haruna
Idris; Lawan; Umar; Yakubu; Shehu; Tanko; Baba; Dauda; Adamu; Bala; Jibrin,Jibril; Kabir
Uwaifo; Obaseki; Iyamu; Aigbe; Osayande; Ogbeide; Eweka; Imasuen; Bassey; Effiong; Etim
Okon; Asuquo; Edet; Akpan; Udoh; Ekpo; Inyang; Ekanem; Okereke; Nwokolo; Orji; Onyema
"""

_ROU_FAMILY_MORE = """
Georgescu; Constantinescu; Niculescu; Rădulescu; Mihăilescu; Vasilescu; Petrescu; Dobrescu
Iordache; Olteanu; Ardeleanu; Moldoveanu; Anghel; Mihalache; Badea; Iliescu; Cojocaru; Ursu
Ungureanu; Cazacu; Rotaru; Croitoru; Lupu; Bejan; Sârbu; Ciobotaru; Văduva; Stanciu; Dincă
Păun; Paraschiv; Ioniță; Mitrea; Roman; Sima; Crăciun; Nica; Pârvu; Bucur; Ghiță; Mircea
Iancu; Stoian; Tănase; Costache; Drăgan; Pavel; Aldea; Bratu; Chiriac; Boboc; Manole
Ștefan; Gavrilă; Popovici; Ispas; Florescu; Pană; Filip; Marcu; Năstase; Nagy; Szabó
Kovács; Tóth; Ceban; Cebotari; Rotari; Cojocari; Bivol; Cazac; Botnari; Guțu; Munteanu
"""

_POL_FAMILY_MORE = """
Wójtowicz; Zawadzki; Sikora; Baran; Rutkowski; Michalak; Szewczyk; Ostrowski; Tomaszewski
Pietrzak; Marciniak; Wróblewski; Zalewski; Jakubowski; Jasiński; Sadowski; Duda
Włodarczyk; Wilk; Chmielewski; Borkowski; Sokołowski; Szczepański; Sawicki; Lis
Kucharski; Kalinowski; Wysocki; Maciejewski; Kubiak; Kaźmierczak; Czarnecki; Urbański
Sobczak; Głowacki; Zakrzewski; Krajewski; Adamski; Krupa; Mróz; Kołodziej; Górski
Walczak; Baranowski; Laskowski; Cieślak; Szulc; Witkowski; Kaczmarczyk; Szczepaniak
Brzeziński; Czerwiński; Gajewski; Makowski; Kowalewski; Kołodziejczyk; Nowicki
Stachowiak; Wasilewski; Sowa; Bielecki; Przybylski; Mazurek; Kurek; Wawrzyniak
"""

_ALB_FAMILY_MORE = """
Musliu; Rexhepi,Redžepi; Shala; Bytyqi,Bitići; Osmani; Avdiu; Salihu; Jashari,Jašari
Halili; Hasani; Demaj; Gjini; Dedaj; Lleshi; Ndreu; Pepa; Spahiu; Tafa; Veliu
Xhaferi,Džaferi; Ymeri; Bregu; Dibra; Kaba; Malaj; Nikolla; Shyti; Vata; Zeqiri,Zećiri
Murati; Rrahmani; Sejdiu; Ismaili; Kurti; Alia; Bushati; Gjonaj; Hoti; Koçi,Koci; Lamaj
Mustafa; Pllumbi; Rexha; Sinani; Tahiri; Uka; Hoxholli; Qerimi,Ćerimi; Berisha
"""

_PHL_FAMILY_MORE = """
Bernardo; Cabrera; Corpuz; Cortez; Del Mundo,Delmundo; De Castro,Decastro; De Vera
Enriquez; Espiritu; Esguerra; Evangelista; Francisco; Galang; Gatchalian; Ilagan; Javier
Lim; Tan; Go; Uy; Sy; Ong; Chua; Lozano; Macapagal; Malabanan; Mangubat; Manalang; Medina
Miranda; Morales; Nepomuceno; Ortega; Pacheco; Pineda; Quiambao; Quizon; Ramirez; Robles
Roxas; Samonte; San Jose,Sanjose; Serrano; Salvador; Sarmiento; Silva; Valencia; Velasco
Villareal; Vergara; Yap; Zamora; Agustin; Alvarez; Dimagiba; Lualhati; Lacsamana; Pangan
Sumulong; Tiongson; Umali; Vicente; Buenaventura; Dela Rosa,De la Rosa; Abad; Alcantara
Belmonte; Cajigal; Dalisay; Estrada; Fajardo; Gallardo; Hidalgo; Ignacio; Jimenez
"""

_NPL_FAMILY_MORE = """
गिरी|Giri; पुन|Pun; घले|Ghale; शेर्पा|Sherpa; थारू|Tharu; बुढा|Budha; रोका|Roka
बोहरा|Bohara; ओली|Oli; देउबा|Deuba; प्रधान|Pradhan; कटुवाल|Katuwal; भुसाल|Bhusal
अर्याल|Aryal; ज्ञवाली|Gyawali; लम्साल|Lamsal; सापकोटा|Sapkota; तिमल्सिना|Timalsina
उप्रेती|Upreti; बराल|Baral; सिग्देल|Sigdel; खरेल|Kharel; काफ्ले|Kafle; ढुंगाना|Dhungana
रिजाल|Rijal; महर्जन|Maharjan; डंगोल|Dangol; बज्राचार्य|Bajracharya; शाक्य|Shakya
मल्ल|Malla; ठाकुर|Thakur; झा|Jha; साह|Sah; राणा|Rana; कुँवर|Kunwar; बोगटी|Bogati
सुनार|Sunar; बिश्वकर्मा|Bishwakarma,Vishwakarma; नेपाली|Nepali; परियार|Pariyar
सार्की|Sarki; दमाई|Damai
"""


def _nats(spec: str) -> tuple[tuple[str, float], ...]:
    return tuple((c, float(w)) for c, w in (item.split(":") for item in spec.split()))


#: All origins, with their share of the synthetic victim population.
ORIGINS: tuple[OriginData, ...] = (
    OriginData(
        key="arabic",
        weight=0.12,
        script="Arab",
        nationalities=_nats(
            "SYR:25 IRQ:15 EGY:15 SDN:10 MAR:10 YEM:5 LBN:4 JOR:3 TUN:5 DZA:5 LBY:3"
        ),
        transit=("TUR", "LBY", "LBN", "GRC", "ITA"),
        given_m=parse_entries(_ARABIC_M),
        given_f=parse_entries(_ARABIC_F),
        family=_merge(
            parse_entries(_ARABIC_FAMILY),
            parse_entries(_ARABIC_FAMILY_MORE),
            parse_entries(_ARABIC_M),  # many Arab surnames are an ancestor's given name
        ),
        zipf=0.85,
        second="father",
        second_prob=1.0,
        second_canonical=0.3,
        nicknames=_nick(_ARABIC_NICK),
    ),
    OriginData(
        key="ukrainian",
        weight=0.08,
        script="Cyrl",
        nationalities=_nats("UKR:1"),
        transit=("POL", "MDA", "ROU", "RUS"),
        given_m=parse_entries(_UKR_M),
        given_f=parse_entries(_UKR_F),
        family=_merge(parse_entries(_UKR_FAMILY), _auto(_UKR_FAMILY_MORE, ukrainian_romanisations)),
        zipf=0.8,
        feminize="ukrainian",
        second="pool",
        second_prob=1.0,
        second_canonical=0.04,
        middle_m=parse_entries(_UKR_PATRONYMIC_M),
        middle_f=parse_entries(_UKR_PATRONYMIC_F),
        nicknames=_nick(_UKR_NICK),
    ),
    OriginData(
        key="russian",
        weight=0.05,
        script="Cyrl",
        nationalities=_nats("RUS:70 BLR:12 MDA:8 KAZ:10"),
        transit=("UKR", "GEO", "TUR"),
        given_m=parse_entries(_RUS_M),
        given_f=parse_entries(_RUS_F),
        family=_merge(parse_entries(_RUS_FAMILY), _auto(_RUS_FAMILY_MORE, russian_romanisations)),
        zipf=0.8,
        feminize="russian",
        second="pool",
        second_prob=1.0,
        second_canonical=0.04,
        middle_m=parse_entries(_RUS_PATRONYMIC_M),
        middle_f=parse_entries(_RUS_PATRONYMIC_F),
        nicknames=_nick(_RUS_NICK),
    ),
    OriginData(
        key="ethiopian_eritrean",
        weight=0.08,
        script="Ethi",
        nationalities=_nats("ETH:60 ERI:40"),
        transit=("SDN", "LBY", "DJI", "YEM", "ETH", "ERI"),
        given_m=_merge(parse_entries(_ETH_M), _compounds(_ETH_COMPOUND_HEADS, _ETH_COMPOUND_TAILS)),
        given_f=parse_entries(_ETH_F),
        family=(),
        zipf=0.8,
        family_from_father=True,
        second="father",
        second_pos="family_after",
        second_prob=1.0,
        second_canonical=0.12,
    ),
    OriginData(
        key="thai",
        weight=0.05,
        script="Thai",
        nationalities=_nats("THA:1"),
        transit=("MYS", "LAO", "KHM", "MMR"),
        given_m=parse_entries(_THAI_M),
        given_f=parse_entries(_THAI_F),
        family=parse_entries(_THAI_FAMILY_FIXED),
        zipf=0.7,
        native_joiner=" ",
        free_nick_m=parse_entries(_THAI_NICK_M),
        free_nick_f=parse_entries(_THAI_NICK_F),
        free_nick_prob=0.85,
        nick_factor=3.0,
    ),
    OriginData(
        key="chinese",
        weight=0.07,
        script="Hani",
        nationalities=_nats("CHN:92 TWN:4 HKG:4"),
        transit=("VNM", "THA", "MYS", "RUS"),
        given_m=(),
        given_f=(),
        family=parse_entries(_CHN_FAMILY),
        zipf=1.0,
        family_first=True,
        native_joiner="",
        free_nick_m=parse_entries(_CHN_NICK_M),
        free_nick_f=parse_entries(_CHN_NICK_F),
        free_nick_prob=0.2,
    ),
    OriginData(
        key="nepali_indian",
        weight=0.07,
        script="Deva",
        nationalities=_nats("NPL:55 IND:45"),
        transit=("IND", "ARE", "QAT", "MYS"),
        given_m=parse_entries(_NPL_M),
        given_f=parse_entries(_NPL_F),
        family=_merge(parse_entries(_NPL_FAMILY), parse_entries(_NPL_FAMILY_MORE)),
        zipf=0.8,
        second="pool",
        second_prob=0.6,
        second_canonical=0.5,
        middle_m=parse_entries(_NPL_MIDDLE_M),
        middle_f=parse_entries(_NPL_MIDDLE_F),
    ),
    OriginData(
        key="vietnamese",
        weight=0.08,
        script=None,
        nationalities=_nats("VNM:1"),
        transit=("CHN", "RUS", "FRA", "LAO"),
        given_m=parse_entries(_VNM_M),
        given_f=parse_entries(_VNM_F),
        family=parse_entries(_VNM_FAMILY),
        zipf=0.9,
        family_first=True,
        second="pool",
        second_pos="given_before",
        second_prob=0.92,
        second_canonical=0.9,
        middle_m=parse_entries(_VNM_MIDDLE_M),
        middle_f=parse_entries(_VNM_MIDDLE_F),
    ),
    OriginData(
        key="nigerian",
        weight=0.11,
        script=None,
        nationalities=_nats("NGA:1"),
        transit=("NER", "LBY", "GHA", "BEN", "ITA"),
        given_m=parse_entries(_NGA_M),
        given_f=parse_entries(_NGA_F),
        family=_merge(parse_entries(_NGA_FAMILY), parse_entries(_NGA_FAMILY_MORE)),
        zipf=0.75,
        second="given",
        second_prob=0.6,
        second_canonical=0.4,
        nicknames=_nick(_NGA_NICK),
    ),
    OriginData(
        key="romanian",
        weight=0.07,
        script=None,
        nationalities=_nats("ROU:85 MDA:15"),
        transit=("HUN", "BGR", "ITA"),
        given_m=parse_entries(_ROU_M),
        given_f=parse_entries(_ROU_F),
        family=_merge(parse_entries(_ROU_FAMILY), parse_entries(_ROU_FAMILY_MORE)),
        zipf=0.8,
        second="given",
        second_prob=0.15,
        second_canonical=0.85,
        second_joiner="-",
        nicknames=_nick(_ROU_NICK),
    ),
    OriginData(
        key="albanian",
        weight=0.03,
        script=None,
        nationalities=_nats("ALB:80 MKD:10 MNE:10"),
        transit=("GRC", "ITA"),
        given_m=parse_entries(_ALB_M),
        given_f=parse_entries(_ALB_F),
        family=_merge(parse_entries(_ALB_FAMILY), parse_entries(_ALB_FAMILY_MORE)),
        zipf=0.7,
        second="father",
        second_prob=1.0,
        second_canonical=0.1,
        nicknames=_nick(_ALB_NICK),
    ),
    OriginData(
        key="polish",
        weight=0.03,
        script=None,
        nationalities=_nats("POL:1"),
        transit=("DEU", "GBR"),
        given_m=parse_entries(_POL_M),
        given_f=parse_entries(_POL_F),
        family=_merge(parse_entries(_POL_FAMILY), parse_entries(_POL_FAMILY_MORE)),
        zipf=0.75,
        feminize="polish",
        second="given",
        second_prob=0.3,
        second_canonical=0.1,
        nicknames=_nick(_POL_NICK),
    ),
    OriginData(
        key="latin_american",
        weight=0.10,
        script=None,
        nationalities=_nats(
            "MEX:20 COL:15 VEN:15 HND:10 GTM:10 SLV:6 DOM:6 PER:6 PRY:4 BOL:4 ECU:4"
        ),
        transit=("MEX", "GTM", "ESP", "USA"),
        given_m=parse_entries(_LAT_M),
        given_f=parse_entries(_LAT_F),
        family=parse_entries(_LAT_FAMILY),
        zipf=0.85,
        second="given",
        second_prob=0.3,
        second_canonical=0.7,
        family2_prob=0.85,
        nicknames=_nick(_LAT_NICK),
    ),
    OriginData(
        key="filipino",
        weight=0.06,
        script=None,
        nationalities=_nats("PHL:1"),
        transit=("MYS", "ARE", "SAU", "HKG"),
        given_m=parse_entries(_PHL_M),
        given_f=parse_entries(_PHL_F),
        family=_merge(parse_entries(_PHL_FAMILY), parse_entries(_PHL_FAMILY_MORE)),
        zipf=0.8,
        second="family",
        second_prob=0.9,
        second_canonical=0.3,
        nicknames=_nick(_PHL_NICK),
        free_nick_m=parse_entries(_PHL_FREE_NICK_M),
        free_nick_f=parse_entries(_PHL_FREE_NICK_F),
        free_nick_prob=0.3,
    ),
)
