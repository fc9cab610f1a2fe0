"""Is a reply phatic: words that keep a conversation going and carry no information?

What the owner told one person must never reach a draft for another person (DESIGN.md,
invariant 6). The only replies that may be reused across people are phatic ones:
thanks, greetings, goodbyes, laughter, "ok", "sounds good", "on my way", "you're
welcome", "good night", "take care", emoji, and combinations of those ("haha ok
thanks!"). This module decides by WHAT the words are, from a small explicit vocabulary
per language, never by how they look (no capitals, no digits): the whole text must
decompose into known phatic units, and anything left over makes it not phatic.

When in doubt it is NOT phatic, so the rules are deliberately strict:

* Any digit, in any script ("4", "４", "٤", "①", "Ⅳ"), fails: "see you at 7" is a plan.
  Numbers written as words ("four", "四") fail because they are not vocabulary.
* Names are not vocabulary: "thanks Jenny" fails. (A few vocabulary words are names
  too: "dale" is Spanish for ok and "ty" is thank you, so "thanks Dale" passes; the
  caller's other check, the same words sent to several people, covers that.)
* Longer than `MAX_WORDS` words or `MAX_CHARS` characters fails, whatever the words.
* Format characters (zero-width spaces and joiners, bidi controls) are removed before
  matching, so they can only split or join words, never add a phatic one; tag
  characters (U+E0000 block, invisible ASCII that can hide a whole sentence) fail.
* A combining mark that did not compose into a letter, a second variation selector,
  control characters, symbols that are not reaction emoji (flags, objects, currency)
  fail: each can carry something the reader does not see or that is not phatic.
* A word mixing Latin and Cyrillic letters ("оk" with a Cyrillic о) fails.
* Scripts written without spaces (Chinese, Japanese, Thai) and Korean are matched as
  whole vocabulary phrases over the text with punctuation removed, never character by
  character, so "好的，密码是四四七二" fails on "密码是四四七二".
* Scripts with no vocabulary here (Greek, Arabic, Hindi, ...) are never phatic.

The text is read as the fewest units that cover it, so the longest phrases win
("thank you so much" is one unit, not four). Matching tolerates stretched letters
("thaaanks", "sooo goood", "okkk"): a word matches a vocabulary word when it has the
same letters in the same order and each run of a letter is at least as long as in the
vocabulary word, so "goood" is "good" but "god" is not. Latin and Cyrillic words are
compared without accents ("tschuss", "esta bien").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby, pairwise

MAX_WORDS = 12
MAX_CHARS = 80

# Phrases that carry no information, one per line, per language. Spelling variants are
# listed as such; stretched letters and missing accents need no entry of their own.
# Bare "no", "right", "later", "morning" and "coming" are left out on purpose: alone
# they answer a question ("left or right?", "when?").
VOCABULARY: dict[str, str] = {
    "en": """
        thanks
        thank you
        thank u
        thankyou
        thanks so much
        thank you so much
        thanks a lot
        thanks a bunch
        thanks a million
        thank you very much
        many thanks
        thanks again
        thanks anyway
        thank you anyway
        thanks for asking
        thanks for letting me know
        thanks for the heads up
        thanks for everything
        thank you for everything
        thanks for your help
        thanks for the help
        thank you for your help
        thx
        thnx
        tnx
        ty
        tysm
        tyvm
        ta
        cheers
        much appreciated
        appreciate it
        i appreciate it
        really appreciate it
        thank god
        hi
        hello
        hey
        heya
        hiya
        hey there
        hi there
        hello there
        yo
        howdy
        good morning
        gm
        good afternoon
        good evening
        good night
        goodnight
        gn
        night night
        nighty night
        sleep well
        sleep tight
        sweet dreams
        bye
        bye bye
        byebye
        goodbye
        good bye
        bye for now
        see you
        see ya
        see u
        cya
        see you soon
        see you later
        see ya later
        see you around
        laters
        talk soon
        speak soon
        talk later
        talk to you later
        talk to you soon
        ttyl
        catch you later
        take care
        take it easy
        have fun
        have a good one
        have a nice day
        have a good day
        have a great day
        have a good weekend
        have a nice weekend
        have a great weekend
        have a good time
        have a great time
        have a good night
        have a nice evening
        enjoy
        enjoy it
        good luck
        best of luck
        all the best
        congrats
        congratulations
        well done
        good job
        great job
        safe travels
        have a safe trip
        drive safe
        get well soon
        happy birthday
        happy new year
        merry christmas
        happy holidays
        ok
        okay
        okey
        okie
        oki
        okie dokie
        k
        alright
        all right
        aight
        sure
        sure thing
        for sure
        of course
        ofc
        yes
        yes please
        yeah
        yep
        yup
        ya
        yea
        yas
        mhm
        absolutely
        definitely
        totally
        indeed
        exactly
        so true
        fair enough
        sounds good
        sounds great
        sounds perfect
        sounds like a plan
        that sounds good
        that sounds great
        good
        great
        perfect
        awesome
        cool
        nice
        lovely
        amazing
        wonderful
        excellent
        brilliant
        fantastic
        sweet
        neat
        fine
        good stuff
        nice one
        so good
        so cool
        so nice
        so sweet
        so funny
        very nice
        very good
        that's great
        that's awesome
        that's amazing
        that's cool
        that's nice
        that's fine
        that's ok
        that's okay
        it's fine
        it's ok
        all good
        no worries
        no problem
        np
        no prob
        no probs
        not a problem
        no bother
        got it
        gotcha
        understood
        noted
        will do
        roger
        roger that
        copy that
        makes sense
        i see
        oh i see
        ok then
        okay then
        alright then
        fine by me
        works for me
        good to know
        good to hear
        glad to hear it
        glad to hear that
        love it
        you're welcome
        youre welcome
        your welcome
        ur welcome
        you are welcome
        welcome
        yw
        my pleasure
        pleasure
        anytime
        any time
        don't mention it
        dont mention it
        happy to help
        glad to help
        glad i could help
        how are you
        how are you doing
        how r u
        how's it going
        hows it going
        how you doing
        what's up
        whats up
        sup
        wassup
        i'm good
        im good
        i'm fine
        im fine
        i'm great
        doing well
        doing good
        not bad
        pretty good
        can't complain
        and you
        you
        you too
        same to you
        same
        me too
        likewise
        love you
        love you too
        love ya
        love u
        miss you
        miss you too
        hugs
        big hug
        xoxo
        x
        on my way
        omw
        on the way
        be right there
        be there soon
        almost there
        sorry
        so sorry
        sorry to hear that
        so sorry to hear that
        oh
        ah
        oh no
        oops
        phew
        wow
        whoa
        omg
        oh my god
        oh my gosh
        yay
        woohoo
        woo hoo
        hooray
        aww
        and
        mate
        man
        dude
        bro
        buddy
        guys
        everyone
        everybody
        all
        folks
    """,
    "de": """
        danke
        danke schön
        dankeschön
        danke sehr
        danke dir
        danke euch
        vielen dank
        vielen lieben dank
        tausend dank
        besten dank
        hallo
        hallöchen
        servus
        moin
        moin moin
        grüß dich
        grüezi
        guten morgen
        guten tag
        guten abend
        gute nacht
        schlaf gut
        träum süß
        tschüss
        tschüs
        tschuess
        tschau
        bis dann
        bis später
        bis bald
        bis gleich
        mach's gut
        machs gut
        pass auf dich auf
        viel spaß
        viel glück
        alles gute
        schönen tag
        schönen abend
        schönes wochenende
        gute besserung
        alles klar
        klar
        na klar
        passt
        passt schon
        geht klar
        gut
        sehr gut
        super
        toll
        prima
        perfekt
        genau
        stimmt
        ja
        jawohl
        jep
        jo
        sicher
        auf jeden fall
        gerne
        gern
        gern geschehen
        bitte
        bitte schön
        bitteschön
        kein problem
        keine ursache
        kein ding
        macht nichts
        verstanden
        alles gut
        wie geht's
        wie gehts
        wie geht es dir
        mir geht's gut
        und dir
        dir auch
        ihnen auch
        gleichfalls
        ebenso
        ich auch
        bin unterwegs
        ich bin unterwegs
        bin auf dem weg
        hab dich lieb
        freut mich
        schön
        wunderbar
        klingt gut
        hört sich gut an
        ach so
        achso
        und
    """,
    "es": """
        gracias
        muchas gracias
        mil gracias
        muchísimas gracias
        gracias a ti
        hola
        buenas
        buenos días
        buen día
        buenas tardes
        buenas noches
        adiós
        chao
        chau
        hasta luego
        hasta pronto
        hasta la próxima
        nos vemos
        nos vemos pronto
        cuídate
        que te vaya bien
        que lo pases bien
        diviértete
        suerte
        buena suerte
        que descanses
        felicidades
        felicitaciones
        enhorabuena
        vale
        okey
        dale
        claro
        claro que sí
        por supuesto
        sí
        bueno
        bien
        muy bien
        está bien
        genial
        perfecto
        estupendo
        guay
        qué bien
        qué guay
        de acuerdo
        entendido
        listo
        de nada
        no hay de qué
        con gusto
        a la orden
        no pasa nada
        no te preocupes
        tranquilo
        tranquila
        cómo estás
        qué tal
        todo bien
        y tú
        igualmente
        tú también
        yo también
        te quiero
        un abrazo
        abrazos
        un beso
        besos
        voy en camino
        ya voy
        en camino
        me alegro
        y
    """,
    "fr": """
        merci
        merci beaucoup
        merci bien
        merci à toi
        merci à vous
        mille mercis
        bonjour
        salut
        coucou
        bonsoir
        bonne nuit
        bonne journée
        bonne soirée
        bon week-end
        bon weekend
        bonne chance
        bon courage
        bon appétit
        amuse-toi bien
        amusez-vous bien
        prends soin de toi
        au revoir
        à plus
        à plus tard
        à bientôt
        à tout à l'heure
        bisous
        gros bisous
        bises
        d'accord
        dac
        ouais
        oui
        bien sûr
        pas de problème
        pas de souci
        pas de soucis
        aucun problème
        de rien
        je t'en prie
        je vous en prie
        avec plaisir
        c'est bon
        c'est parfait
        c'est noté
        noté
        parfait
        génial
        top
        très bien
        bien
        trop bien
        trop cool
        ça marche
        entendu
        compris
        ça va
        et toi
        et vous
        toi aussi
        vous aussi
        moi aussi
        pareillement
        j'arrive
        je suis en route
        en route
        je t'aime
        et
    """,
    "it": """
        grazie
        grazie mille
        grazie tante
        grazie davvero
        grazie a te
        ciao
        ciao ciao
        salve
        buongiorno
        buon pomeriggio
        buonasera
        buonanotte
        buona notte
        buona giornata
        buona serata
        buon weekend
        buon fine settimana
        arrivederci
        a presto
        a dopo
        ci vediamo
        ci sentiamo
        alla prossima
        buona fortuna
        in bocca al lupo
        crepi
        divertiti
        abbi cura di te
        va bene
        va benissimo
        d'accordo
        certo
        certamente
        sì
        perfetto
        ottimo
        benissimo
        bene
        bello
        bellissimo
        fantastico
        capito
        ricevuto
        prego
        di niente
        di nulla
        figurati
        nessun problema
        non c'è problema
        come stai
        come va
        tutto bene
        anche tu
        anche a te
        altrettanto
        sto arrivando
        arrivo
        baci
        un bacio
        un abbraccio
        ti voglio bene
        e
    """,
    "pt": """
        obrigado
        obrigada
        muito obrigado
        muito obrigada
        obrigadão
        brigado
        brigada
        valeu
        olá
        oi
        bom dia
        boa tarde
        boa noite
        tchau
        adeus
        até logo
        até mais
        até já
        até breve
        até a próxima
        se cuida
        cuide-se
        boa sorte
        divirta-se
        parabéns
        beleza
        blz
        tá bom
        tá
        tudo bem
        tudo bom
        tudo certo
        certo
        claro que sim
        com certeza
        sim
        ótimo
        legal
        show
        massa
        fechado
        combinado
        entendi
        de nada
        por nada
        não há de quê
        imagina
        sem problema
        sem problemas
        de boa
        como vai
        e você
        você também
        estou a caminho
        tô indo
        já vou
        beijos
        beijo
        bjs
        abraço
        abraços
        te amo
        kk
    """,
    "nl": """
        dank je
        dank je wel
        dankjewel
        dank u
        dank u wel
        dankuwel
        bedankt
        hartelijk bedankt
        hoi
        hee
        goedemorgen
        goedemiddag
        goedenavond
        welterusten
        slaap lekker
        doei
        dag
        tot ziens
        tot straks
        tot zo
        tot later
        tot de volgende keer
        fijne dag
        fijn weekend
        veel plezier
        succes
        veel succes
        gefeliciteerd
        oké
        goed
        helemaal goed
        leuk
        mooi
        fijn
        lekker
        tof
        klopt
        precies
        jazeker
        zeker
        natuurlijk
        uiteraard
        begrepen
        duidelijk
        graag gedaan
        geen probleem
        geen dank
        hoe gaat het
        alles goed
        met mij goed
        en met jou
        jij ook
        u ook
        insgelijks
        ik ook
        ik kom eraan
        onderweg
        ben onderweg
        liefs
        dikke kus
        en
    """,
    "ru": """
        спасибо
        спасибо большое
        большое спасибо
        спасибочки
        спасибки
        спс
        благодарю
        привет
        приветик
        здравствуй
        здравствуйте
        добрый день
        доброе утро
        добрый вечер
        спокойной ночи
        доброй ночи
        пока
        пока пока
        до свидания
        до встречи
        до скорого
        увидимся
        счастливо
        удачи
        хорошего дня
        хорошего вечера
        береги себя
        поздравляю
        ок
        окей
        хорошо
        ладно
        понял
        поняла
        понятно
        ясно
        принято
        да
        ага
        угу
        конечно
        ну да
        отлично
        супер
        класс
        круто
        прекрасно
        замечательно
        здорово
        норм
        нормально
        пожалуйста
        не за что
        без проблем
        не проблема
        всё хорошо
        всё ок
        как дела
        как ты
        а ты
        а у тебя
        и тебе
        тебе тоже
        взаимно
        я тоже
        уже еду
        уже иду
        целую
        обнимаю
        и
    """,
    "zh": """
        谢谢
        谢谢你
        谢谢您
        多谢
        感谢
        非常感谢
        太感谢了
        谢啦
        謝謝
        謝謝你
        多謝
        你好
        您好
        哈喽
        嗨
        早
        早上好
        早安
        晚上好
        晚安
        再见
        再見
        拜拜
        回头见
        回頭見
        下次见
        好
        好的
        好啊
        好吧
        好嘞
        行
        可以
        没问题
        沒問題
        没事
        沒事
        不客气
        不客氣
        不用谢
        不用謝
        收到
        了解
        明白
        明白了
        知道了
        嗯
        嗯嗯
        哦
        对
        對
        是的
        当然
        當然
        太好了
        真棒
        不错
        不錯
        厉害
        加油
        保重
        玩得开心
        祝你好运
        一路平安
        辛苦了
        我在路上了
        马上到
        馬上到
        你也是
        你呢
        我也是
        爱你
        hhh
    """,
    "ja": """
        ありがとう
        ありがとうございます
        ありがとうございました
        どうもありがとう
        どうも
        サンキュー
        感謝です
        こんにちは
        こんばんは
        おはよう
        おはようございます
        おやすみ
        おやすみなさい
        さようなら
        じゃあね
        じゃね
        またね
        また今度
        バイバイ
        ばいばい
        了解
        了解です
        りょうかい
        承知しました
        わかった
        わかりました
        分かった
        分かりました
        オッケー
        おっけー
        はい
        うん
        ええ
        いいね
        いいよ
        いいですね
        すごい
        すごいね
        さすが
        よかった
        よかったね
        良かった
        素敵
        最高
        どういたしまして
        いえいえ
        大丈夫
        大丈夫です
        お疲れ
        お疲れ様
        お疲れ様です
        おつかれ
        気をつけて
        楽しんで
        頑張って
        がんばって
        元気
        元気です
        お元気ですか
        あなたも
        私も
        今行く
        向かってます
        よろしく
        よろしくお願いします
        了解しました
        承知いたしました
        w
    """,
    "ko": """
        감사합니다
        감사해요
        고마워
        고마워요
        고맙습니다
        땡큐
        ㄱㅅ
        ㄳ
        안녕
        안녕하세요
        안녕히 가세요
        안녕히 계세요
        잘 자
        잘 자요
        좋은 아침
        좋은 하루
        좋은 하루 보내세요
        또 봐
        또 봐요
        나중에 봐
        바이
        ㅂㅂ
        네
        넹
        예
        응
        웅
        ㅇㅇ
        그래
        그래요
        알겠어
        알겠어요
        알겠습니다
        알았어
        오케이
        ㅇㅋ
        좋아
        좋아요
        좋네요
        대박
        최고
        멋지다
        괜찮아
        괜찮아요
        천만에요
        별말씀을요
        수고하세요
        수고했어
        수고하셨습니다
        조심히 가
        조심해
        화이팅
        파이팅
        축하해
        축하해요
        ㅊㅋ
        잘 지내
        잘 지내요
        잘 지내세요
        너도
        나도
        사랑해
        가는 중
        지금 가
    """,
    "th": """
        ขอบคุณ
        ขอบคุณครับ
        ขอบคุณค่ะ
        ขอบใจ
        สวัสดี
        สวัสดีครับ
        สวัสดีค่ะ
        โอเค
        ได้เลย
        ไม่เป็นไร
        ครับ
        ค่ะ
        บาย
    """,
}
# Laughter, per language, as regular expressions over a word whose repeated letters
# are collapsed ("hahahaaa" is read as "hahaha"), one per line. Scripts without spaces
# are matched without collapsing, so their repetition is spelled out ("哈{2,}").
LAUGHTER: dict[str, str] = {
    "en": r"""
        a?(?:ha)+h?
        (?:he){2,}h?
        (?:hi){2,}h?
        (?:lo)+l
        lmf?ao
        rofl(?:mao)?
    """,
    "de": r"""
        (?:ha){2,}
        (?:hi){2,}
    """,
    "es": r"""
        a?(?:ja){2,}j?
        (?:je){2,}j?
        (?:ji){2,}j?
        (?:js){2,}j?
    """,
    "fr": r"""
        x?(?:mdr|ptdr)
    """,
    "it": r"""
        a?(?:ha){2,}h?
        (?:ah){2,}
    """,
    "pt": r"""
        (?:rs){2,}
        (?:hue){2,}
    """,
    "nl": r"""
        (?:ha){2,}
        (?:hi){2,}
    """,
    "ru": r"""
        а?(?:ха)+х?
        (?:хе){2,}х?|хех
        (?:хи){2,}х?
        (?:ло)+л
    """,
    "zh": r"""
        哈{2,}
        呵{2,}
        嘿{2,}
        嘻{2,}
    """,
    "ja": r"""
        笑+
        草+
        ふ{2,}
        へ{2,}
        は{2,}
        あは{2,}
        わろた
    """,
    "ko": r"""
        [ㅋㅎ]+
        [ㅠㅜ]+
        (?:하){2,}
        (?:히){2,}
        (?:헤){2,}
        (?:크){2,}
    """,
}

# Emoji that are reactions: faces, hearts, hands, celebration. Objects, food, places,
# flags, animals and the sick faces (😷 🤒 🤕) are left out: "✈️🇯🇵" says where someone
# is going. Skin tones, gender signs and the emoji variation selector may follow one.
EMOJI = """
    faces:     😀 😃 😄 😁 😆 😅 🤣 😂 🙂 🙃 😉 😊 😇 🥰 😍 🤩 😘 😗 ☺ 😚 😙 🥲 😋 😛
               😜 🤪 😝 🤗 🤭 🤫 🤔 🫡 😐 😑 😶 😏 😒 🙄 😬 😌 😔 😪 😴 🥳 😎 🤓 🧐 😕
               😟 🙁 ☹ 😮 😯 😲 😳 🥺 🥹 😦 😧 😨 😰 😥 😢 😭 😱 😖 😣 😞 😓 😩 😫 🥱 😤
               😡 😠 🫠 🫣 🫢 🫤 💀
    cats:      😺 😸 😹 😻 😼 😽 🙀 😿 😾 🙈 🙉 🙊
    hands:     👍 👎 👌 🤌 🤏 ✌ 🤞 🫰 🤟 🤘 🤙 👈 👉 👆 👇 ☝ ✋ 🤚 🖐 🖖 👋 🤝 🙏 👏
               🙌 🫶 👐 🤲 💪 ✊ 👊 🤛 🤜 🤷 🤦 🙆 🙅 🙋 🙇
    hearts:    ❤ 🧡 💛 💚 💙 💜 🤎 🖤 🤍 🩷 🩵 🩶 💔 ❣ 💕 💞 💓 💗 💖 💘 💝 💟 ♥ ♡ 💋
    cheer:     🎉 🎊 ✨ 🌟 ⭐ ☆ ★ 💯 🔥 👀 💤 🥂 🍻 ✅ ✔ ☑ 💫 ♪ ♫
"""
# What may follow one: a skin tone, a variation selector, a gender sign (the zero-width
# joiner before it is already removed). Once each, in that order: a longer run of
# selectors or modifiers is a known way to hide bytes behind an emoji.
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff]?[\ufe0e\ufe0f]?(?:[♀♂]\ufe0f?)?")

# Emoticons as typed, lower-cased, whitespace-separated; the last character may repeat
# (":)))", "xDDD", "<333").
EMOTICONS = r"""
    :) :-) :] =) (: (-: :( :-( :[ =( ): :'( :,( ;) ;-) ;]
    :d :-d ;d xd x-d :p :-p ;p xp :o :-o :* :-* ;* <3 </3 :3
    ^^ ^_^ ^-^ ^.^ >_< >.< -_- -.- o_o o.o t_t t.t ;_; :/ :-/ :| :-|
    \o/ o/ )) (( ¯\_(ツ)_/¯
"""

SAMPLE_PHATIC: tuple[str, ...] = (
    "thanks!",
    "Thank you so much 🙏",
    "haha ok thanks!",
    "Sounds good, see you!",
    "ok",
    "okkk",
    "thaaanks",
    "sooo goood",
    "hahahaha",
    "lol",
    "np",
    "you're welcome",
    "good night 😘",
    "take care!",
    "have fun!!",
    "on my way",
    "omw",
    "got it, thanks",
    "cool cool",
    "sure thing",
    "no worries :)",
    "👍",
    "❤️",
    "😂😂",
    ":D",
    "xD",
    "<3",
    "hey, how are you?",
    "Danke schön!",
    "alles klar, bis später",
    "Tschüss 👋",
    "gracias!!",
    "jajaja vale",
    "de nada",
    "Merci beaucoup",
    "d'accord, à bientôt",
    "mdr",
    "grazie mille",
    "va bene, ci vediamo",
    "ahahah",
    "obrigado!",
    "kkkkk valeu",
    "tudo bem?",
    "dank je wel",
    "prima, tot straks",
    "спасибо)",
    "ок",
    "хахаха, круто",
    "спокойной ночи",
    "谢谢",
    "哈哈哈",
    "好的",
    "好的，谢谢！",
    "ありがとう",
    "了解です",
    "おやすみなさい😴",
    "ㅋㅋㅋ",
    "감사합니다",
    "ㅋㅋ 알겠어요",
    "ขอบคุณครับ",
)

SAMPLE_NOT_PHATIC: tuple[str, ...] = (
    "the door code is 4472",
    "ok the code is 4472",
    "haha the key is under the flowerpot",
    "yes, the key is under the flowerpot",
    "thanks for the bank details",
    "not great. Jenny got the cancer diagnosis last week",
    "see you tomorrow",
    "see you at Luigi's",
    "see you at 7",
    "thanks Jenny",
    "sure, I'll pay you back",
    "I'll send you €50 tonight",
    "my PIN is four four seven two",
    "the wifi password is hunter2",
    "meet me at 12 Baker Street",
    "she's pregnant, don't tell anyone",
    "he got fired today",
    "we're moving to Berlin in May",
    "the surgery went fine",
    "my new number is +44 7700 900123",
    "account ends in 1234",
    "ok 👍 IBAN DE89 3704 0044 0532 0130 00",
    "thanks, I'll transfer it on Friday",
    "haha yes she said yes to the proposal",
    "I'm at the hospital",
    "pick up the kids at school",
    "lol they broke up",
    "call me after the meeting",
    "bring the documents",
    "no",
    "maybe",
    "I love Sarah",
    "ok 4472",
    "４４７２",
    "thanks ４４７２",
    "o\u200bk the code is 4\u200b4\u200b7\u200b2",
    "✈️🇯🇵",
    "🏠🔑",
    "€€€",
    "Das Passwort ist Sonnenblume",
    "bis morgen um acht",
    "la clave es cuatro cuatro siete dos",
    "nos vemos mañana en la estación",
    "le code est 4472",
    "à demain chez Paul",
    "ci vediamo domani alle otto",
    "a senha é 4472",
    "até amanhã no bar",
    "de code is vier vier zeven twee",
    "пароль от вайфая котик",
    "код 4472",
    "门密码是四四七二",
    "好的，密码是四四七二",
    "我的银行卡号是六二二二",
    "明天见",
    "暗証番号は四四七二です",
    "また明日",
    "비밀번호는 사칠칠이",
    "내일 봐",
    "",
)


# ---------------------------------------------------------------------------------------
# Reading the text


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "´": "'", "`": "'"})
_TAGS = range(0xE0000, 0xE0080)
_SPACELESS = frozenset({"cjk", "thai", "hangul"})
# Punctuation and these symbols only separate words.
_SEPARATOR_SYMBOLS = frozenset("~")


def _script(char: str) -> str:
    """The script class of a letter: latin, cyrillic, cjk (Han and kana), hangul, thai,
    or other. Only the first five have vocabulary."""
    first = unicodedata.name(char, "").split(" ", 1)[0]
    if first in {"CJK", "HIRAGANA", "KATAKANA", "IDEOGRAPHIC", "KATAKANA-HIRAGANA"}:
        return "cjk"
    if first in {"LATIN", "CYRILLIC", "HANGUL", "THAI"}:
        return first.lower()
    return "other"


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    script: str


@dataclass(frozen=True, slots=True)
class _Sign:
    """An emoji or an emoticon: a phatic unit by itself."""

    text: str


class _NotPhatic(Exception):
    """Raised inside the reader at the first thing that cannot be phatic."""


def _normalize(text: str) -> str:
    """NFKC, casefold, apostrophes unified, format characters removed. Tag characters
    (which can spell out invisible ASCII) refuse the text."""
    text = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES)).casefold()
    if any(ord(char) in _TAGS for char in text):
        raise _NotPhatic
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _emoticon_pattern() -> re.Pattern[str]:
    alternatives = []
    for emoticon in sorted(EMOTICONS.split(), key=len, reverse=True):
        emoticon = unicodedata.normalize("NFKC", emoticon).casefold()
        body = re.escape(emoticon) + "+"
        before = r"(?<!\w)" if emoticon[0].isalnum() else r"(?<!\d)"
        after = r"(?!\w)" if emoticon[-1].isalnum() else ""
        alternatives.append(before + body + after)
    return re.compile("|".join(alternatives))


def _lines(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def _emoji(block: str) -> frozenset[str]:
    return frozenset(
        unicodedata.normalize("NFKC", emoji)
        for line in _lines(block)
        for emoji in line.split(":", 1)[-1].split()
    )


_EMOTICON = _emoticon_pattern()
_EMOJI = _emoji(EMOJI)


def _scan(text: str) -> Iterator[_Word | _Sign]:
    """Words and signs of a normalized text, in order; raises `_NotPhatic` at a digit,
    a control character, a stray combining mark, a symbol that is not a reaction emoji,
    or a word that mixes Latin and Cyrillic letters."""
    i, end = 0, len(text)
    while i < end:
        emoticon = _EMOTICON.match(text, i)
        if emoticon:
            yield _Sign(emoticon.group())
            i = emoticon.end()
            continue
        char = text[i]
        category = unicodedata.category(char)
        if char in _EMOJI:
            yield _Sign(char)
            modifiers = _EMOJI_MODIFIERS.match(text, i + 1)
            i = modifiers.end() if modifiers else i + 1
        elif category[0] == "L":
            j = i + 1
            while j < end and (
                unicodedata.category(text[j])[0] in "LM"
                or (text[j] == "'" and j + 1 < end and text[j + 1].isalpha())
            ):
                j += 1
            yield from _split_scripts(text[i:j])
            i = j
        elif category[0] in "PZ" or char in " \t\n\r" or char in _SEPARATOR_SYMBOLS:
            i += 1
        else:  # digits, controls, stray marks, other symbols
            raise _NotPhatic


def _split_scripts(run: str) -> list[_Word]:
    """One run of letters as words of one script each: "ok谢谢" is two words, but a word
    mixing Latin, Cyrillic or unknown letters ("оk" with a Cyrillic о) is refused."""
    scripts: list[str] = []
    for char in run:  # the run starts with a letter, so scripts[-1] exists below
        if unicodedata.category(char)[0] == "M":
            if scripts[-1] != "thai":
                raise _NotPhatic  # a mark NFKC did not compose: a distortion or a hiding
            scripts.append("thai")
        elif char == "'":
            scripts.append(scripts[-1])
        else:
            scripts.append(_script(char))
    words: list[_Word] = []
    start = 0
    for script, group in groupby(scripts):
        length = len(list(group))
        words.append(_Word(run[start : start + length], script))
        start += length
    for before, after in pairwise(words):
        if before.script not in _SPACELESS and after.script not in _SPACELESS:
            raise _NotPhatic
    return words


# ---------------------------------------------------------------------------------------
# Matching


def _fold(word: str) -> str:
    """A Latin or Cyrillic word without accents: "tschüss" and "tschuss" match."""
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if unicodedata.category(c)[0] != "M")


def _runs(word: str) -> tuple[tuple[str, int], ...]:
    return tuple((letter, len(list(group))) for letter, group in groupby(word))


def _collapse(word: str) -> str:
    return "".join(letter for letter, _ in groupby(word))


def _stretches(word: str, vocabulary_runs: tuple[tuple[str, int], ...]) -> bool:
    """True when `word` is the vocabulary word with some letters held longer."""
    runs = _runs(word)
    return len(runs) == len(vocabulary_runs) and all(
        letter == v_letter and count >= v_count
        for (letter, count), (v_letter, v_count) in zip(runs, vocabulary_runs, strict=True)
    )


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    # Phrases of spaced scripts, by their collapsed words: each entry the letter runs.
    spaced: dict[tuple[str, ...], list[tuple[tuple[tuple[str, int], ...], ...]]]
    longest: int
    # Phrases of scripts without spaces (and Korean), with spaces removed.
    spaceless: frozenset[str]
    spaced_laughter: re.Pattern[str]
    spaceless_laughter: re.Pattern[str]


def _build_vocabulary() -> _Vocabulary:
    spaced: dict[tuple[str, ...], list[tuple[tuple[tuple[str, int], ...], ...]]] = {}
    spaceless: set[str] = set()
    for language, block in VOCABULARY.items():
        for phrase in _lines(block):
            words = list(_scan(_normalize(phrase)))
            if not words or not all(isinstance(w, _Word) for w in words):
                raise ValueError(f"{language} vocabulary: {phrase!r} is not made of words")
            scripts = {w.script for w in words if isinstance(w, _Word)}
            if scripts <= _SPACELESS and len(scripts) == 1:
                spaceless.add("".join(w.text for w in words))
            elif scripts.isdisjoint(_SPACELESS):
                keys = tuple(_fold(w.text) for w in words)
                variants = spaced.setdefault(tuple(_collapse(k) for k in keys), [])
                variants.append(tuple(_runs(k) for k in keys))
            else:
                raise ValueError(f"{language} vocabulary: {phrase!r} mixes scripts")
    spaced_shapes: list[str] = []
    spaceless_shapes: list[str] = []
    for block in LAUGHTER.values():
        for line in _lines(block):
            shape = unicodedata.normalize("NFKC", line)  # as the text will be: ㅋ is ᄏ
            letters = {_script(c) for c in shape if c.isalpha()}
            (spaceless_shapes if letters <= _SPACELESS else spaced_shapes).append(shape)
    return _Vocabulary(
        spaced=spaced,
        longest=max(len(key) for key in spaced),
        spaceless=frozenset(spaceless),
        spaced_laughter=re.compile("|".join(f"(?:{s})" for s in spaced_shapes)),
        spaceless_laughter=re.compile("|".join(f"(?:{s})" for s in spaceless_shapes)),
    )


_VOCABULARY = _build_vocabulary()


def _is_spaced_unit(words: list[str]) -> bool:
    keys = [_fold(word) for word in words]
    if len(keys) == 1 and _VOCABULARY.spaced_laughter.fullmatch(_collapse(keys[0])):
        return True
    variants = _VOCABULARY.spaced.get(tuple(_collapse(key) for key in keys), [])
    return any(
        all(_stretches(key, runs) for key, runs in zip(keys, variant, strict=True))
        for variant in variants
    )


def _spaced_units(words: list[str]) -> list[str] | None:
    """Words of a spaced script as phrases, fewest (so longest) phrases first."""
    best: list[list[str] | None] = [None] * len(words) + [[]]
    for i in range(len(words) - 1, -1, -1):
        for length in range(min(_VOCABULARY.longest, len(words) - i), 0, -1):
            rest = best[i + length]
            if rest is not None and _is_spaced_unit(words[i : i + length]):
                found = [" ".join(words[i : i + length]), *rest]
                current = best[i]
                if current is None or len(found) < len(current):
                    best[i] = found
    return best[0]


def _spaceless_units(text: str) -> list[str] | None:
    """Text of a script without spaces as whole vocabulary phrases or laughter."""
    best: list[list[str] | None] = [None] * len(text) + [[]]
    for i in range(len(text) - 1, -1, -1):
        for j in range(len(text), i, -1):
            rest = best[j]
            piece = text[i:j]
            if rest is not None and (
                piece in _VOCABULARY.spaceless or _VOCABULARY.spaceless_laughter.fullmatch(piece)
            ):
                found = [piece, *rest]
                current = best[i]
                if current is None or len(found) < len(current):
                    best[i] = found
    return best[0]


def _kind(piece: _Word | _Sign) -> str:
    """How a piece is matched: "sign", "spaced", or the spaceless script it is in."""
    if isinstance(piece, _Sign):
        return "sign"
    return piece.script if piece.script in _SPACELESS else "spaced"


def _units(pieces: list[_Word | _Sign]) -> list[str] | None:
    units: list[str] = []
    # Consecutive words of one kind are matched together; a sign ends a stretch.
    for kind, group in groupby(pieces, key=_kind):
        stretch = list(group)
        if kind == "sign":
            found: list[str] | None = [p.text for p in stretch]
        elif kind == "spaced":
            found = _spaced_units([p.text for p in stretch])
        else:
            found = _spaceless_units("".join(p.text for p in stretch))
        if found is None:
            return None
        units.extend(found)
    return units


def phatic_units(text: str) -> list[str] | None:
    """The phatic units `text` is made of, in order ("haha ok thanks!" gives ["haha",
    "ok", "thanks"]); None when any part of it is not phatic, or it is empty or long."""
    if len(text.strip()) > MAX_CHARS:
        return None
    try:
        pieces = list(_scan(_normalize(text)))
    except _NotPhatic:
        return None
    if sum(isinstance(p, _Word) for p in pieces) > MAX_WORDS:
        return None
    units = _units(pieces)
    return units or None


@functools.lru_cache(maxsize=65_536)
def is_phatic(text: str) -> bool:
    """True when every part of `text` is a greeting, thanks, acknowledgement, laughter,
    goodbye, well-wish or reaction emoji, so it may be reused with anyone. Cached: the
    same short texts ("ok", "haha") come up draft after draft."""
    return phatic_units(text) is not None
